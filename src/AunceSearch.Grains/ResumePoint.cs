using AunceSearch.Checkpoints;
using AunceSearch.Training;

namespace AunceSearch.Grains;

/// <summary>Where a fold resumes: the newest sound checkpoint of its own up to the last epoch its trial has heard of.</summary>
public static class ResumePoint
{
    /// <summary>
    /// Among <paramref name="keys"/> (a fold's store listing), the newest ".ckpt" of an epoch &lt;= <paramref name="upToEpoch"/>
    /// that <see cref="Checkpoint.Inspect"/> finds sound. Each damaged one passed over is copied aside under KEY.damaged
    /// (the original key is written again when training reaches that epoch) and listed with its reason. Newer checkpoints
    /// (written but never reported) are not considered: their epochs are trained again and reported. Null when none fits.
    /// </summary>
    public static async Task<(string? Key, byte[]? Data, IReadOnlyList<(string Key, string Reason)> Damaged)> FindAsync(
        ICheckpointStore store, IEnumerable<string> keys, int upToEpoch, CancellationToken cancellationToken)
    {
        var candidates = keys.Where(k => k.EndsWith(".ckpt", StringComparison.Ordinal) && CheckpointKeys.EpochOf(k) <= upToEpoch)
            .Order(StringComparer.Ordinal).ToList();
        var damaged = new List<(string, string)>();
        for (var k = candidates.Count - 1; k >= 0; k--)
        {
            var data = await store.LoadAsync(candidates[k], cancellationToken);
            if (data is null)
            {
                continue;
            }

            try
            {
                _ = Checkpoint.Inspect(data, candidates[k]);
                return (candidates[k], data, damaged);
            }
            catch (InvalidDataException e)
            {
                damaged.Add((candidates[k], e.Message));
                await store.SaveAsync(candidates[k] + ".damaged", data, CancellationToken.None);
            }
        }

        return (null, null, damaged);
    }
}
