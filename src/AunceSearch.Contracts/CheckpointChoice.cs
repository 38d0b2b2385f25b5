namespace AunceSearch.Contracts;

/// <summary>A trial's latest checkpoint of one fold, chosen from a sweep's status.</summary>
public sealed record CheckpointChoice(TrialSummary Trial, FoldEpochReport Fold, string Key, bool BestTrial, bool BestFold)
{
    /// <summary>The fold's test-split value of the sweep's metric.</summary>
    public double Value(string metric) => metric == "accuracy" ? Fold.MeanAccuracy : Fold.MeanF1;

    /// <summary>
    /// Why <paramref name="data"/> (loaded from the store under <see cref="Key"/>) is not the checkpoint the sweep recorded
    /// (its SHA-256 differs), or null when it is or the sweep recorded none (checkpoints written before digests were kept).
    /// </summary>
    public string? Mismatch(byte[] data)
    {
        if (string.IsNullOrEmpty(Fold.CheckpointSha256))
        {
            return null;
        }

        var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
        return actual == Fold.CheckpointSha256 ? null
            : $"checkpoint {Key}: its SHA-256 is {actual}, but the sweep recorded {Fold.CheckpointSha256} when it was written (changed or replaced in the store)";
    }

    /// <summary>Where an export came from, as its metadata says (the same from the CLI and the HTTP API).</summary>
    public Dictionary<string, string> Origin(string sweepId, string metric) => new(StringComparer.Ordinal)
    {
        ["sweep"] = sweepId,
        ["trial"] = Trial.Trial.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["fold"] = Fold.Fold.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["checkpoint"] = Key,
        ["sweep_metric"] = metric,
        ["fold_test_value"] = Value(metric).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// The checkpoint of <paramref name="trial"/> (default: the sweep's best trial) and <paramref name="fold"/> (default:
    /// the fold whose test split scored best on the sweep's metric; ties go to the lower fold number). Throws
    /// <see cref="KeyNotFoundException"/> naming what is missing.
    /// </summary>
    public static CheckpointChoice Pick(SweepStatus status, int? trial, int? fold)
    {
        var number = trial ?? status.BestTrial ?? throw NoneYet(status.SweepId);
        return Pick(status.SweepId, status.Metric, number, status.Trials.FirstOrDefault(t => t.Trial == number), $"trials: 0-{status.Trials.Length - 1}", trial is null, fold);
    }

    /// <summary>"No trial has a checkpoint yet", for a sweep with no best trial.</summary>
    public static KeyNotFoundException NoneYet(string sweepId) => new($"sweep '{sweepId}': no trial has a checkpoint yet (no epoch reported)");

    /// <summary>
    /// The checkpoint of trial <paramref name="number"/> (<paramref name="summary"/>, null when the sweep has no such trial)
    /// and <paramref name="fold"/> (default: the best fold on the sweep's metric), as <see cref="Pick(SweepStatus, int?, int?)"/>.
    /// </summary>
    public static CheckpointChoice Pick(string sweepId, string metric, int number, TrialSummary? summary, string trialsHint, bool bestTrial, int? fold)
    {
        if (summary is null)
        {
            throw new KeyNotFoundException($"sweep '{sweepId}' has no trial {number} ({trialsHint})");
        }

        if (summary.LastFolds.Length == 0 || summary.LastCheckpointKeys.Length != summary.LastFolds.Length)
        {
            throw new KeyNotFoundException($"sweep '{sweepId}' trial {number}: no epoch reported yet, so no checkpoint");
        }

        var accuracy = metric == "accuracy";
        int index;
        if (fold is { } wanted)
        {
            index = Array.FindIndex(summary.LastFolds, f => f.Fold == wanted);
            if (index < 0)
            {
                throw new KeyNotFoundException($"sweep '{sweepId}' trial {number} has no fold {wanted} (folds: {string.Join(", ", summary.LastFolds.Select(f => f.Fold))})");
            }
        }
        else
        {
            index = summary.LastFolds.Select((f, k) => (Value: accuracy ? f.MeanAccuracy : f.MeanF1, f.Fold, k))
                .OrderByDescending(x => x.Value).ThenBy(x => x.Fold).First().k;
        }

        return new CheckpointChoice(summary, summary.LastFolds[index], summary.LastCheckpointKeys[index], bestTrial, fold is null);
    }
}
