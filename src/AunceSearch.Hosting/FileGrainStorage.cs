using System.Security.Cryptography;
using System.Text;
using Orleans.Storage;

namespace AunceSearch.Hosting;

/// <summary>
/// Orleans grain storage in local files, one per grain and state name, for the embedded silo: a sweep started by
/// <c>aunce sweep run</c> survives the process (<c>kill -9</c>, a closed laptop) and <c>aunce sweep resume</c> reactivates it.
/// Writes go to a temporary file that is flushed to disk and then renamed over the old one, and the directory is flushed
/// too (<see cref="AunceSearch.Checkpoints.DurableFile"/>), so a crash mid-write leaves the previous state, never a torn or
/// missing one, and a full disk leaves the previous state and no temporary file. The ETag is a content hash: a second activation that wrote in between is
/// detected and refused (<see cref="InconsistentStateException"/>). One machine only: a cluster uses Redis storage.
/// </summary>
/// <param name="flushToDisk">False only to measure what the disk flush costs (bench/coordinator): a crash may then lose writes.</param>
public sealed class FileGrainStorage(string name, string directory, IGrainStorageSerializer serializer, bool flushToDisk = true) : IGrainStorage
{
    public string Directory { get; } = Path.GetFullPath(directory);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        if (!File.Exists(path))
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        var bytes = await File.ReadAllBytesAsync(path);
        try
        {
            grainState.State = serializer.Deserialize<T>(new BinaryData(bytes));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InconsistentStateException($"{path}: the stored state of {grainId} ({name} storage) cannot be read: {e.Message}");
        }

        grainState.ETag = Hash(bytes);
        grainState.RecordExists = true;
    }

    /// <summary>
    /// Serialises on the caller's (grain's) thread, then checks, writes, flushes and renames on the thread pool: the flush
    /// blocks for as long as the disk takes, and a grain must not block its scheduler — a reentrant one (the sweep) goes
    /// on accepting calls meanwhile, whose inputs share its next write.
    /// </summary>
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        var etag = grainState.ETag;
        var bytes = serializer.Serialize(grainState.State).ToArray();
        grainState.ETag = await Task.Run(() =>
        {
            CheckETag(path, etag, grainId);
            AunceSearch.Checkpoints.DurableFile.Replace(path, bytes, flushToDisk);   // temporary file, fsync, rename, directory fsync; nothing left behind on ENOSPC
            return Hash(bytes);
        });
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        CheckETag(path, grainState.ETag, grainId);
        File.Delete(path);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    /// <summary>The stored size in bytes of a grain's state (0 when none is stored).</summary>
    public long SizeOf(string stateName, GrainId grainId)
    {
        var file = new FileInfo(PathOf(stateName, grainId));
        return file.Exists ? file.Length : 0;
    }

    private void CheckETag(string path, string? etag, GrainId grainId)
    {
        var stored = File.Exists(path) ? Hash(File.ReadAllBytes(path)) : null;
        if (stored != etag)
        {
            throw new InconsistentStateException($"{path}: the state of {grainId} was changed by another activation", stored ?? "(none)", etag ?? "(none)");
        }
    }

    /// <summary>DIR/STATE/TYPE/KEY.bin, with the key escaped to a safe file name (and a hash suffix when escaping was needed).</summary>
    private string PathOf(string stateName, GrainId grainId)
    {
        var key = grainId.Key.ToString()!;
        var safe = new string([.. key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
        if (safe != key || safe.StartsWith('.'))
        {
            safe = $"{safe.TrimStart('.')}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..12]}";
        }

        return Path.Combine(Directory, stateName, grainId.Type.ToString()!.Replace('/', '_'), safe + ".bin");
    }

    private static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
