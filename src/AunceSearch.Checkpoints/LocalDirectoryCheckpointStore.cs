namespace AunceSearch.Checkpoints;

/// <summary>Checkpoints as files under a directory; a write goes to a temporary file that is flushed to disk, renamed into place and made durable.</summary>
public sealed class LocalDirectoryCheckpointStore : ICheckpointStore
{
    public LocalDirectoryCheckpointStore(string root)
    {
        Root = System.IO.Path.GetFullPath(root);
    }

    public string Root { get; }

    public string Locate(string key) => System.IO.Path.Combine(Root, CheckpointKeys.Validate(key));

    /// <summary>Writes durably (<see cref="DurableFile"/>: temporary file, fsync, rename, directory fsync) on the thread pool.</summary>
    public async Task<string> SaveAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var path = Locate(key);
        await Task.Run(() => DurableFile.Replace(path, data.Span), cancellationToken).ConfigureAwait(false);
        return path;
    }

    public async Task<byte[]?> LoadAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = Locate(key);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false) : null;
    }

    public Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        // Enumerate only under the deepest directory the prefix names (a fold's listing must not cost the whole store).
        var slash = prefix.LastIndexOf('/');
        var start = slash <= 0 ? Root : System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, prefix[..slash]));
        if (!Directory.Exists(start) || !(start == Root || start.StartsWith(Root + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal)))
        {
            return Task.FromResult<IReadOnlyList<string>>([]);
        }

        IReadOnlyList<string> keys = [.. Directory.EnumerateFiles(start, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains(".tmp-", StringComparison.Ordinal))
            .Select(f => System.IO.Path.GetRelativePath(Root, f).Replace('\\', '/'))
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];
        return Task.FromResult(keys);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = Locate(key);
        if (File.Exists(path))
        {
            File.Delete(path);
        }

        return Task.CompletedTask;
    }
}
