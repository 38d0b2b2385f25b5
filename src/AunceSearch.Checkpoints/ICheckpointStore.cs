namespace AunceSearch.Checkpoints;

/// <summary>
/// Stores checkpoint blobs under slash-separated keys such as <c>demo/t003/f1/e0004.ckpt</c>. Writes are atomic:
/// a reader sees the whole previous object or the whole new one, never a part.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Where <paramref name="key"/> lives (an absolute path or a blob URI), for users and logs.</summary>
    string Locate(string key);

    /// <summary>Writes (or replaces) the object and returns its location.</summary>
    Task<string> SaveAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>The object's bytes, or null if there is none.</summary>
    Task<byte[]?> LoadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Keys that start with <paramref name="prefix"/>, in ordinal order.</summary>
    Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes the object if it exists.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);
}

/// <summary>Key rules shared by every store.</summary>
public static class CheckpointKeys
{
    /// <summary>Throws if <paramref name="key"/> is empty, absolute, or has empty, '.' or '..' segments.</summary>
    public static string Validate(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        var segments = key.Split('/');
        if (key.StartsWith('/') || segments.Any(s => s.Length == 0 || s == "." || s == ".." || s.Contains('\\')))
        {
            throw new ArgumentException($"checkpoint key '{key}' must be relative, '/'-separated, without empty, '.' or '..' segments", nameof(key));
        }

        return key;
    }

    /// <summary>The prefix under which all of a fold's checkpoints live.</summary>
    public static string FoldPrefix(string sweep, int trial, int fold) => $"{TrialPrefix(sweep, trial)}f{fold}/";

    /// <summary>Every checkpoint of a trial (all folds) starts with this.</summary>
    public static string TrialPrefix(string sweep, int trial) => $"{sweep}/t{trial:D3}/";

    /// <summary>The fold number of a key made by <see cref="ForEpoch"/> (its "f&lt;n&gt;" segment), or null.</summary>
    public static int? FoldOf(string key)
    {
        var segments = key.Split('/');
        return segments.Length >= 2 && segments[^2] is ['f', .. var digits] && int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var f) ? f : null;
    }

    /// <summary>The epoch of a key made by <see cref="ForEpoch"/>, or null.</summary>
    public static int? EpochOf(string key)
    {
        var name = key.Split('/')[^1];
        return name.Length == 10 && name.StartsWith('e') && name.EndsWith(".ckpt", StringComparison.Ordinal) &&
               int.TryParse(name.AsSpan(1, 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var e) ? e : null;
    }

    /// <summary>The key of a fold's checkpoint after an epoch.</summary>
    public static string ForEpoch(string sweep, int trial, int fold, int epoch) => $"{FoldPrefix(sweep, trial, fold)}e{epoch:D4}.ckpt";
}
