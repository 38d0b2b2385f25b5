namespace AunceSearch.Contracts;

/// <summary>A fold finished an epoch: its test metrics and where its checkpoint is.</summary>
[GenerateSerializer, Immutable, Alias("aunce.fold-epoch-report")]
public sealed record FoldEpochReport(
    [property: Id(0)] int Trial,
    [property: Id(1)] int Fold,
    [property: Id(2)] int Epoch,
    [property: Id(3)] double MeanF1,
    [property: Id(4)] double MeanAccuracy,
    [property: Id(5)] double TrainLoss,
    [property: Id(6)] double[] F1PerAu,
    [property: Id(7)] double Seconds,
    [property: Id(8)] string CheckpointKey,
    [property: Id(9)] string CheckpointLocation,
    [property: Id(10)] string Silo)
{
    /// <summary>Per-AU accuracy on the fold's test split.</summary>
    [Id(11)] public double[] AccuracyPerAu { get; init; } = [];

    /// <summary>The test split's trivial baselines per AU: F1 of predicting every AU active.</summary>
    [Id(12)] public double[] AllActiveF1PerAu { get; init; } = [];

    /// <summary>The test split's trivial baselines per AU: accuracy of always predicting the majority class.</summary>
    [Id(13)] public double[] MajorityAccuracyPerAu { get; init; } = [];

    [Id(14)] public string[] AuNames { get; init; } = [];

    /// <summary>Data entries this fold skipped so far (bad label rows, missing or undecodable images; dataset.skip_bad).</summary>
    [Id(15)] public int Skipped { get; init; }

    /// <summary>SHA-256 (lower-case hex) of the checkpoint's bytes as written: downloads and exports check what they load against it.</summary>
    [Id(16)] public string CheckpointSha256 { get; init; } = "";

    /// <summary>Every field equal, arrays by content (record equality compares arrays by reference; two copies of one report that came in different calls are the same report). Keep in step with the fields above.</summary>
    public bool SameAs(FoldEpochReport other) =>
        (Trial, Fold, Epoch, CheckpointKey, CheckpointLocation, Silo, Skipped, CheckpointSha256) ==
        (other.Trial, other.Fold, other.Epoch, other.CheckpointKey, other.CheckpointLocation, other.Silo, other.Skipped, other.CheckpointSha256) &&
        MeanF1.Equals(other.MeanF1) && MeanAccuracy.Equals(other.MeanAccuracy) && TrainLoss.Equals(other.TrainLoss) && Seconds.Equals(other.Seconds) &&
        F1PerAu.AsSpan().SequenceEqual(other.F1PerAu) && AccuracyPerAu.AsSpan().SequenceEqual(other.AccuracyPerAu) &&
        AllActiveF1PerAu.AsSpan().SequenceEqual(other.AllActiveF1PerAu) && MajorityAccuracyPerAu.AsSpan().SequenceEqual(other.MajorityAccuracyPerAu) &&
        AuNames.AsSpan().SequenceEqual(other.AuNames);
}

/// <summary>A trial's fold-averaged metric at an epoch.</summary>
[GenerateSerializer, Immutable, Alias("aunce.trial-epoch-report")]
public sealed record TrialEpochReport(
    [property: Id(0)] int Trial,
    [property: Id(1)] int Epoch,
    [property: Id(2)] double Value,
    [property: Id(3)] double MeanF1,
    [property: Id(4)] double MeanAccuracy,
    [property: Id(5)] FoldEpochReport[] Folds);
