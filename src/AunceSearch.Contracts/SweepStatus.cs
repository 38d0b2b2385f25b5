namespace AunceSearch.Contracts;

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
