using AunceSearch.Model;

namespace AunceSearch.Contracts;

/// <summary>
/// Everything a trial needs to train all of its folds: the sweep's dataset, model and training records as they are (not
/// copied field by field), the trial's configuration and its leg. Ids 7-9, 13 and 17 held the copied training fields
/// before, and 5-6 the dataset and model in their wire-only shapes; they are not reused.
/// </summary>
[GenerateSerializer, Immutable, Alias("aunce.trial-assignment")]
public sealed record TrialAssignment(
    [property: Id(0)] string SweepId,
    [property: Id(1)] int Trial,
    [property: Id(2)] Dictionary<string, string> Hyperparameters,
    [property: Id(3)] int[] Folds,
    [property: Id(4)] int Epochs,
    [property: Id(19)] DatasetOptions Dataset,
    [property: Id(20)] ModelOptions Model,
    [property: Id(18)] TrainingDefinition Training,
    [property: Id(10)] long Seed,
    [property: Id(11)] SweepMetric Metric,
    [property: Id(12)] int FromEpoch = 0,
    [property: Id(14)] bool PartialFolds = false,
    [property: Id(15)] string[]? SeedCheckpointKeys = null,
    [property: Id(16)] FoldEpochReport[]? Delivered = null)
{
    /// <summary>Attempts per fold for failures of its own training (the definition's, or the default when it names none).</summary>
    public int MaxAttempts => Training.MaxAttempts > 0 ? Training.MaxAttempts : TrainingDefinition.DefaultMaxAttempts;
}

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
