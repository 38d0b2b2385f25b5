namespace AunceSearch.Contracts;

/// <summary>Lifecycle of a sweep.</summary>
public enum SweepState
{
    Pending = 0,
    Running = 1,
    Completed = 2,
    Failed = 3,
    Cancelled = 4,
}

/// <summary>Lifecycle of a trial (one configuration, all of its folds).</summary>
public enum TrialState
{
    Pending = 0,
    Running = 1,
    Completed = 2,
    Pruned = 3,
    Failed = 4,

    /// <summary>Waiting at a rung for promotion (promotion ASHA, synchronous Hyperband).</summary>
    Paused = 5,
}

/// <summary>What a trial must do after reporting an epoch.</summary>
public enum TrialDirective
{
    Continue = 0,
    Stop = 1,
    Complete = 2,

    /// <summary>The trial reached its rung: let the folds finish this leg and wait for promotion.</summary>
    Pause = 3,
}

/// <summary>The dataset layout: the AUNCE list files (BP4D/DISFA) or one label table with a header.</summary>
public enum DatasetFormat
{
    AunceList = 0,
    Table = 1,
}

/// <summary>How the dataset's subjects are split into folds.</summary>
public enum DatasetSplit
{
    /// <summary>The layout's own per-fold list files.</summary>
    Lists = 0,

    /// <summary>The published BP4D parts.</summary>
    Bp4d = 1,

    /// <summary>The published DISFA parts.</summary>
    Disfa = 2,

    /// <summary>Subject ids per part, given in <see cref="DatasetRef.Parts"/>.</summary>
    Parts = 3,

    /// <summary>Round-robin subjects into <see cref="DatasetRef.SplitFolds"/> parts.</summary>
    Subjects = 4,
}

/// <summary>Decoded images in memory, streamed from disk, or chosen by size.</summary>
public enum DataCacheMode
{
    Auto = 0,
    Memory = 1,
    Stream = 2,
}

/// <summary>The training transform: the reference's image_train_enhance, a basic crop and flip, or none.</summary>
public enum AugmentMode
{
    Enhance = 0,
    Basic = 1,
    None = 2,
}

/// <summary>The dataset a fold trains on. Paths are absolute and read by the trainer silos.</summary>
[GenerateSerializer, Immutable, Alias("aunce.dataset-ref")]
public sealed record DatasetRef(
    [property: Id(0)] string Root,
    [property: Id(1)] string ListName,
    [property: Id(2)] int ImageSize,
    [property: Id(3)] string[]? AuNames,
    [property: Id(4)] DatasetFormat Format = DatasetFormat.AunceList,
    [property: Id(5)] string Labels = "labels.csv",
    [property: Id(6)] string Images = "",
    [property: Id(7)] DatasetSplit Split = DatasetSplit.Lists,
    [property: Id(8)] string[][]? Parts = null,
    [property: Id(9)] int SplitFolds = 3,
    [property: Id(10)] string? FoldLists = null,
    [property: Id(11)] int CropSize = 0,
    [property: Id(12)] bool SkipBad = false,
    [property: Id(13)] DataCacheMode Cache = DataCacheMode.Auto,
    [property: Id(14)] int Workers = 0,
    [property: Id(15)] int Prefetch = 4);

/// <summary>The training transform (aunce-reference §4.2).</summary>
[GenerateSerializer, Immutable, Alias("aunce.augment-ref")]
public sealed record AugmentRef(
    [property: Id(0)] AugmentMode Mode,
    [property: Id(1)] double Flip,
    [property: Id(2)] double Jitter,
    [property: Id(3)] double Brightness,
    [property: Id(4)] double Contrast,
    [property: Id(5)] double Saturation,
    [property: Id(6)] double Hue,
    [property: Id(7)] double Grayscale,
    [property: Id(8)] int BlurKernel,
    [property: Id(9)] double BlurSigmaMin,
    [property: Id(10)] double BlurSigmaMax);

/// <summary>Encoder settings.</summary>
[GenerateSerializer, Immutable, Alias("aunce.model-ref")]
public sealed record ModelRef(
    [property: Id(0)] string Encoder,
    [property: Id(1)] int Width,
    [property: Id(2)] int FeatureDim,
    [property: Id(3)] int Neighbors = 4,
    [property: Id(4)] int? EmbedDim = null,
    [property: Id(5)] int[]? Depths = null,
    [property: Id(6)] int[]? Heads = null,
    [property: Id(7)] int? Window = null,
    [property: Id(8)] double? DropPath = null,
    [property: Id(9)] string? Pretrained = null);

/// <summary>Everything a trial needs to train all of its folds.</summary>
[GenerateSerializer, Immutable, Alias("aunce.trial-assignment")]
public sealed record TrialAssignment(
    [property: Id(0)] string SweepId,
    [property: Id(1)] int Trial,
    [property: Id(2)] Dictionary<string, string> Hyperparameters,
    [property: Id(3)] int[] Folds,
    [property: Id(4)] int Epochs,
    [property: Id(5)] DatasetRef Dataset,
    [property: Id(6)] ModelRef Model,
    [property: Id(7)] int ProbeSteps,
    [property: Id(8)] double ProbeLr,
    [property: Id(9)] TrainingDevice Device,
    [property: Id(10)] long Seed,
    [property: Id(11)] SweepMetric Metric,
    [property: Id(12)] int FromEpoch = 0,
    [property: Id(13)] AugmentRef? Augment = null,
    [property: Id(14)] bool PartialFolds = false,
    [property: Id(15)] string[]? SeedCheckpointKeys = null,
    [property: Id(16)] FoldEpochReport[]? Delivered = null,
    [property: Id(17)] int MaxAttempts = TrainingDefinition.DefaultMaxAttempts);

/// <summary>
/// One fold of a trial. <see cref="Device"/> is the index of the device it trains on (the slot director's choice);
/// <see cref="TraceParent"/> the W3C id of its trial leg's span, so the fold's spans join the leg's trace however long it
/// waited for a slot and whoever started it.
/// </summary>
[GenerateSerializer, Immutable, Alias("aunce.fold-assignment")]
public sealed record FoldAssignment(
    [property: Id(0)] TrialAssignment Trial,
    [property: Id(1)] int Fold,
    [property: Id(2)] int Device = 0,
    [property: Id(3)] string? TraceParent = null)
{
    /// <summary>The fold grain's key.</summary>
    public string Key => GrainKeys.Fold(Trial.SweepId, Trial.Trial, Fold);
}

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

/// <summary>A scheduler decision with its evidence, as stored by the sweep.</summary>
[GenerateSerializer, Immutable, Alias("aunce.decision-record")]
public sealed record DecisionRecord(
    [property: Id(0)] int Trial,
    [property: Id(1)] int Epoch,
    [property: Id(2)] string Kind,
    [property: Id(3)] double Value,
    [property: Id(4)] int? Rung,
    [property: Id(5)] double? Cutoff,
    [property: Id(6)] int? Rank,
    [property: Id(7)] int Competitors,
    [property: Id(8)] string Reason);

/// <summary>One line of a sweep's progress log.</summary>
[GenerateSerializer, Immutable, Alias("aunce.sweep-event")]
public sealed record SweepEvent(
    [property: Id(0)] long Sequence,
    [property: Id(1)] string Kind,
    [property: Id(2)] int Trial,
    [property: Id(3)] int? Fold,
    [property: Id(4)] int? Epoch,
    [property: Id(5)] double? Value,
    [property: Id(6)] string State,
    [property: Id(7)] string Message);

/// <summary>A trial as the sweep sees it.</summary>
[GenerateSerializer, Alias("aunce.trial-summary")]
public sealed record TrialSummary
{
    [Id(0)] public required int Trial { get; init; }

    [Id(1)] public TrialState State { get; init; }

    [Id(2)] public required Dictionary<string, string> Hyperparameters { get; init; }

    [Id(3)] public int LastEpoch { get; init; }

    [Id(4)] public double? LastValue { get; init; }

    [Id(5)] public double? LastMeanF1 { get; init; }

    [Id(6)] public double? LastMeanAccuracy { get; init; }

    /// <summary>Checkpoint locations of the last reported epoch, one per fold (fold order).</summary>
    [Id(7)] public string[] LastCheckpoints { get; init; } = [];

    [Id(8)] public string[] LastCheckpointKeys { get; init; } = [];

    [Id(9)] public string? Error { get; init; }

    /// <summary>The fold-mean metric after each reported epoch.</summary>
    [Id(10)] public double[] History { get; init; } = [];

    /// <summary>The epoch the current (or last) leg trains to.</summary>
    [Id(11)] public int TargetEpoch { get; init; }

    /// <summary>PBT: the checkpoints (one per fold) the current leg started from, when it exploited another trial.</summary>
    [Id(12)] public string[]? SeedCheckpointKeys { get; init; }

    /// <summary>The fold reports of the last reported epoch (fold order): per-AU metrics and the test splits' baselines.</summary>
    [Id(13)] public FoldEpochReport[] LastFolds { get; init; } = [];

    /// <summary>
    /// Fold reports of epochs after <see cref="LastEpoch"/> (some folds finished the epoch, the trial has not reported it
    /// yet), durable in the sweep's state: a leg restarted after a crash keeps them, and those fold epochs are not trained again.
    /// </summary>
    [Id(14)] public FoldEpochReport[] PendingFolds { get; init; } = [];

    /// <summary>Each fold's test value of the sweep's metric after each reported epoch (fold order): the per-fold learning curves.</summary>
    [Id(15)] public double[][] FoldHistory { get; init; } = [];

    /// <summary>PBT: the trial and epoch whose checkpoints the current leg started from (kept while this trial runs).</summary>
    [Id(16)] public int? SeedTrial { get; init; }

    [Id(17)] public int? SeedEpoch { get; init; }
}

/// <summary>A trial's heavy part, stored apart in a snapshot: its last epoch's fold reports and its per-fold learning curves.</summary>
public sealed record TrialFoldDetails(FoldEpochReport[] LastFolds, double[][] FoldHistory);

/// <summary>A snapshot of a sweep.</summary>
[GenerateSerializer, Alias("aunce.sweep-status")]
public sealed record SweepStatus
{
    [Id(0)] public required string SweepId { get; init; }

    [Id(1)] public SweepState State { get; init; }

    [Id(2)] public int TotalTrials { get; init; }

    [Id(3)] public TrialSummary[] Trials { get; init; } = [];

    [Id(4)] public DecisionRecord[] Decisions { get; init; } = [];

    [Id(5)] public int? BestTrial { get; init; }

    [Id(6)] public string Metric { get; init; } = "f1";

    [Id(7)] public string? Error { get; init; }

    [Id(8)] public long LastEventSequence { get; init; }
}
