using System.Collections.Immutable;
using System.Text.Json.Serialization;
using AunceSearch.Model;

namespace AunceSearch.Contracts;

/// <summary>The sweep's metric: the fold mean of mean per-AU F1, or of mean per-AU accuracy.</summary>
public enum SweepMetric
{
    F1 = 0,
    Accuracy = 1,
}

/// <summary>What multi-objective ASHA can rank by: fold means of F1, accuracy, seconds per epoch, training loss.</summary>
public enum ObjectiveMetric
{
    F1 = 0,
    Accuracy = 1,
    Seconds = 2,
    Loss = 3,
}

/// <summary>ASHA's two forms: the paper's promotion (trials pause at rungs) or Ray's stopping.</summary>
public enum AshaVariant
{
    Promotion = 0,
    Stopping = 1,
}

/// <summary>
/// A sweep as the cluster receives it: the client parsed, validated and resolved the YAML (relative paths made absolute,
/// defaults filled in, the search space checked), and grains see only this. Paths in it (dataset root, label table,
/// pretrained weights) are read by the trainer silos, so they must be valid there. Versioned: a change of meaning is a new
/// <see cref="CurrentVersion"/>, and a grain refuses a version it does not know.
/// </summary>
[GenerateSerializer, Immutable, Alias("aunce.sweep-definition")]
public sealed record SweepDefinition(
    [property: Id(0)] string Name,
    [property: Id(1)] ulong Seed,
    [property: Id(9)] DatasetOptions Dataset,
    [property: Id(3)] int[] Folds,
    [property: Id(10)] ModelOptions Model,
    [property: Id(5)] TrainingDefinition Training,
    [property: Id(6)] SearchDefinition Search)
{
    public const int CurrentVersion = 1;

    [Id(7)] public int Version { get; init; } = CurrentVersion;

    /// <summary>
    /// Which checkpoints the sweep keeps. A spec that names none gets <see cref="CheckpointRetention.Default"/> (best-k, 3)
    /// from the spec loader; the initialiser here is for definitions stored before retention existed, which kept everything
    /// and still do.
    /// </summary>
    [Id(8)] public CheckpointRetention Retention { get; init; } = CheckpointRetention.All;

    /// <summary>
    /// What a grain checks before it accepts a definition (the client's spec loader checked everything else with the YAML's
    /// line numbers): the version, and the invariants the coordinator relies on. Throws <see cref="ArgumentException"/>
    /// naming the field and what is wrong.
    /// </summary>
    public void Validate()
    {
        Require(Version == CurrentVersion, $"Version: {Version} is not a sweep definition version this silo understands (it reads {CurrentVersion}); upgrade the silos or the client so they match");
        Require(!string.IsNullOrWhiteSpace(Name), "Name: empty");
        Require(Folds is { Length: > 0 }, "Folds: no fold to train");
        Require(Folds.Distinct().Count() == Folds.Length, $"Folds: a fold is listed twice ({string.Join(", ", Folds)})");
        Require(Dataset is not null && !string.IsNullOrWhiteSpace(Dataset.Root), "Dataset.Root: empty");
        Require(Model is not null && !string.IsNullOrWhiteSpace(Model.Encoder), "Model.Encoder: empty");
        Require(Training is not null, "Training: missing");
        Require(Training!.Epochs >= 1, $"Training.Epochs: {Training.Epochs} (at least 1)");
        Require(Training.Hyperparameters is not null, "Training.Hyperparameters: missing");
        Require(Training.MaxAttempts is >= 0 and <= 100, $"Training.MaxAttempts: {Training.MaxAttempts} (1 to 100; 0 means the default, {TrainingDefinition.DefaultMaxAttempts})");
        Require(Search is not null, "Search: missing");
        Require(Search!.Trials >= 1, $"Search.Trials: {Search.Trials} (at least 1)");
        Require(Search.MaxConcurrentTrials >= 1, $"Search.MaxConcurrentTrials: {Search.MaxConcurrentTrials} (at least 1)");
        Require(Search.Space is not null && Search.Sampler is not null && Search.Scheduler is not null, "Search: the space, sampler and scheduler are all required");
        Require(Search.Scheduler is not AshaScheduling { Objectives.Length: 1 }, "Search.Scheduler.Objectives: one objective (use the sweep's metric, or give two or more)");
        Require(Retention is not null && (Retention.Keep == RetentionKind.All || Retention.K >= 1), "Retention.K: best-k needs k >= 1");

        static void Require(bool condition, string message)
        {
            if (!condition)
            {
                throw new ArgumentException($"sweep definition: {message}");
            }
        }
    }
}

/// <summary>Training settings every trial shares, and the fixed hyperparameter values the search space overrides per trial.</summary>
[GenerateSerializer, Immutable, Alias("aunce.training-definition")]
public sealed record TrainingDefinition(
    [property: Id(0)] int Epochs,
    [property: Id(1)] Dictionary<string, string> Hyperparameters,
    [property: Id(2)] Dictionary<string, string> Modes,
    [property: Id(3)] int ProbeSteps,
    [property: Id(4)] double ProbeLr,
    [property: Id(5)] TrainingDevice Device,
    [property: Id(8)] AugmentOptions Augment,
    [property: Id(7)] int MaxAttempts = TrainingDefinition.DefaultMaxAttempts)
{
    /// <summary>Attempts per fold for failures of its own training (a definition stored before the setting existed reads 0: this).</summary>
    public const int DefaultMaxAttempts = 2;

    /// <summary>The fixed hyperparameters merged with one sampled (or given) configuration, in key order.</summary>
    public ImmutableSortedDictionary<string, string> Resolve(IReadOnlyDictionary<string, string> sampled) =>
        Hyperparameters.ToImmutableSortedDictionary(StringComparer.Ordinal).SetItems(sampled);
}

/// <summary>Checkpoint retention: keep everything, or only what can still matter.</summary>
public enum RetentionKind
{
    All = 0,

    /// <summary>The latest checkpoints of the best K ended trials; the two latest epochs of running and paused trials; what PBT legs start from.</summary>
    BestK = 1,
}

[GenerateSerializer, Immutable, Alias("aunce.checkpoint-retention")]
public sealed record CheckpointRetention([property: Id(0)] RetentionKind Keep, [property: Id(1)] int K)
{
    public static readonly CheckpointRetention All = new(RetentionKind.All, 0);

    /// <summary>What a sweep keeps unless its spec says otherwise: the best 3 ended trials' latest epochs (and what running trials need).</summary>
    public static readonly CheckpointRetention Default = new(RetentionKind.BestK, 3);
}

/// <summary>How many trials, what they optimise, and how configurations are proposed and pruned.</summary>
[GenerateSerializer, Immutable, Alias("aunce.search-definition")]
public sealed record SearchDefinition(
    [property: Id(0)] int Trials,
    [property: Id(1)] int MaxConcurrentTrials,
    [property: Id(2)] SweepMetric Metric,
    [property: Id(3)] Direction Direction,
    [property: Id(4)] ParameterDefinition[] Space,
    [property: Id(5)] SamplerDefinition Sampler,
    [property: Id(6)] SchedulerDefinition Scheduler,
    [property: Id(7)] bool PartialFolds = false)
{
    /// <summary>Warm start: configurations for the first trials (parameters they leave out are sampled).</summary>
    [Id(8)] public Dictionary<string, string>[] Enqueued { get; init; } = [];

    /// <summary>Warm start: results of earlier sweeps that samplers learn from (complete observations).</summary>
    [Id(9)] public SeedResult[] SeedResults { get; init; } = [];
}

/// <summary>A configuration and the fold-mean value an earlier sweep measured for it.</summary>
[GenerateSerializer, Immutable, Alias("aunce.seed-result")]
public sealed record SeedResult(
    [property: Id(0)] Dictionary<string, string> Config,
    [property: Id(1)] double Value);

/// <summary>A parameter exists only when an earlier one has one of <see cref="Values"/>.</summary>
[GenerateSerializer, Immutable, Alias("aunce.parameter-condition")]
public sealed record ParameterCondition(
    [property: Id(0)] string Parameter,
    [property: Id(1)] string[] Values);

/// <summary>One searchable parameter (or a group of them, for a simplex).</summary>
[GenerateSerializer]
[JsonPolymorphic(TypeDiscriminatorPropertyName = "$kind")]
[JsonDerivedType(typeof(FloatParameter), "float")]
[JsonDerivedType(typeof(IntParameter), "int")]
[JsonDerivedType(typeof(CategoricalParameter), "categorical")]
[JsonDerivedType(typeof(FixedParameter), "fixed")]
[JsonDerivedType(typeof(SimplexParameter), "simplex")]
public abstract record ParameterDefinition([property: Id(0)] string Name)
{
    [Id(1)] public ParameterCondition? When { get; init; }
}

/// <summary>A real parameter, uniform on [Low, High] or log-uniform.</summary>
[GenerateSerializer, Immutable, Alias("aunce.float-parameter")]
public sealed record FloatParameter(string Name, [property: Id(0)] double Low, [property: Id(1)] double High, [property: Id(2)] bool Log = false)
    : ParameterDefinition(Name);

/// <summary>An integer parameter in [Low, High] with a step, or log-uniform.</summary>
[GenerateSerializer, Immutable, Alias("aunce.int-parameter")]
public sealed record IntParameter(string Name, [property: Id(0)] long Low, [property: Id(1)] long High, [property: Id(2)] long Step = 1, [property: Id(3)] bool Log = false)
    : ParameterDefinition(Name);

/// <summary>One of <see cref="Choices"/>.</summary>
[GenerateSerializer, Immutable, Alias("aunce.categorical-parameter")]
public sealed record CategoricalParameter(string Name, [property: Id(0)] string[] Choices) : ParameterDefinition(Name);

/// <summary>A parameter held at one value.</summary>
[GenerateSerializer, Immutable, Alias("aunce.fixed-parameter")]
public sealed record FixedParameter(string Name, [property: Id(0)] string Value) : ParameterDefinition(Name);

/// <summary>Probabilities on a simplex: the free components drawn uniformly over what <see cref="Fixed"/> leaves of <see cref="Budget"/>.</summary>
[GenerateSerializer, Immutable, Alias("aunce.simplex-parameter")]
public sealed record SimplexParameter(
    string Name,
    [property: Id(0)] string[] Components,
    [property: Id(1)] Dictionary<string, double> Fixed,
    [property: Id(2)] double Budget = 1.0) : ParameterDefinition(Name);

/// <summary>How configurations are proposed: one closed record per sampler.</summary>
[GenerateSerializer]
[JsonPolymorphic(TypeDiscriminatorPropertyName = "$kind")]
[JsonDerivedType(typeof(TpeSampling), "tpe")]
[JsonDerivedType(typeof(RandomSampling), "random")]
[JsonDerivedType(typeof(SobolSampling), "sobol")]
[JsonDerivedType(typeof(GridSampling), "grid")]
public abstract record SamplerDefinition;

/// <summary>Tree-structured Parzen estimator (Optuna's parameters).</summary>
[GenerateSerializer, Immutable, Alias("aunce.tpe-sampling")]
public sealed record TpeSampling(
    [property: Id(0)] int StartupTrials,
    [property: Id(1)] int EiCandidates,
    [property: Id(2)] double PriorWeight,
    [property: Id(3)] bool ConsiderMagicClip,
    [property: Id(4)] bool ConsiderEndpoints,
    [property: Id(5)] bool Multivariate,
    [property: Id(6)] bool ConstantLiar) : SamplerDefinition;

[GenerateSerializer, Immutable, Alias("aunce.random-sampling")]
public sealed record RandomSampling : SamplerDefinition;

/// <summary>Scrambled Sobol' points.</summary>
[GenerateSerializer, Immutable, Alias("aunce.sobol-sampling")]
public sealed record SobolSampling : SamplerDefinition;

/// <summary>A grid: <see cref="Points"/> per real range (and simplex lattice steps + 1).</summary>
[GenerateSerializer, Immutable, Alias("aunce.grid-sampling")]
public sealed record GridSampling([property: Id(0)] int Points) : SamplerDefinition;

/// <summary>Which trial scheduler prunes or promotes: one closed record per scheduler, with its parameters.</summary>
[GenerateSerializer]
[JsonPolymorphic(TypeDiscriminatorPropertyName = "$kind")]
[JsonDerivedType(typeof(AshaScheduling), "asha")]
[JsonDerivedType(typeof(SuccessiveHalvingScheduling), "successive_halving")]
[JsonDerivedType(typeof(HyperbandScheduling), "hyperband")]
[JsonDerivedType(typeof(SynchronousHyperbandScheduling), "hyperband_sync")]
[JsonDerivedType(typeof(MedianScheduling), "median")]
[JsonDerivedType(typeof(PercentileScheduling), "percentile")]
[JsonDerivedType(typeof(MedianStoppingScheduling), "median_stopping")]
[JsonDerivedType(typeof(PbtScheduling), "pbt")]
[JsonDerivedType(typeof(FifoScheduling), "none")]
public abstract record SchedulerDefinition;

/// <summary>ASHA; two or more <see cref="Objectives"/> (stopping variant) rank by non-dominated sorting.</summary>
[GenerateSerializer, Immutable, Alias("aunce.asha-scheduling")]
public sealed record AshaScheduling(
    [property: Id(0)] AshaVariant Variant,
    [property: Id(1)] int GracePeriod,
    [property: Id(2)] int ReductionFactor,
    [property: Id(3)] SmallRungPolicy SmallRungPolicy,
    [property: Id(4)] int MinEarlyStoppingRate,
    [property: Id(5)] ObjectiveDefinition[] Objectives) : SchedulerDefinition;

/// <summary>One objective of multi-objective ASHA.</summary>
[GenerateSerializer, Immutable, Alias("aunce.objective-definition")]
public sealed record ObjectiveDefinition(
    [property: Id(0)] ObjectiveMetric Metric,
    [property: Id(1)] Direction Direction);

/// <summary>Optuna's successive-halving pruner.</summary>
[GenerateSerializer, Immutable, Alias("aunce.successive-halving-scheduling")]
public sealed record SuccessiveHalvingScheduling(
    [property: Id(0)] int GracePeriod,
    [property: Id(1)] int ReductionFactor,
    [property: Id(2)] int MinEarlyStoppingRate,
    [property: Id(3)] int BootstrapCount) : SchedulerDefinition;

/// <summary>Asynchronous Hyperband (Optuna's pruner; brackets by a hash of the sweep id and trial).</summary>
[GenerateSerializer, Immutable, Alias("aunce.hyperband-scheduling")]
public sealed record HyperbandScheduling(
    [property: Id(0)] int GracePeriod,
    [property: Id(1)] int ReductionFactor,
    [property: Id(2)] int BootstrapCount) : SchedulerDefinition;

/// <summary>Synchronous Hyperband (the paper's; trials pause until their rung is full).</summary>
[GenerateSerializer, Immutable, Alias("aunce.hyperband-sync-scheduling")]
public sealed record SynchronousHyperbandScheduling(
    [property: Id(0)] int GracePeriod,
    [property: Id(1)] int ReductionFactor) : SchedulerDefinition;

/// <summary>Optuna's median pruner.</summary>
[GenerateSerializer, Immutable, Alias("aunce.median-scheduling")]
public sealed record MedianScheduling(
    [property: Id(0)] int StartupTrials,
    [property: Id(1)] int WarmupSteps,
    [property: Id(2)] int IntervalSteps,
    [property: Id(3)] int MinTrials) : SchedulerDefinition;

/// <summary>Optuna's percentile pruner.</summary>
[GenerateSerializer, Immutable, Alias("aunce.percentile-scheduling")]
public sealed record PercentileScheduling(
    [property: Id(0)] double Percentile,
    [property: Id(1)] int StartupTrials,
    [property: Id(2)] int WarmupSteps,
    [property: Id(3)] int IntervalSteps,
    [property: Id(4)] int MinTrials) : SchedulerDefinition;

/// <summary>Vizier's median stopping rule.</summary>
[GenerateSerializer, Immutable, Alias("aunce.median-stopping-scheduling")]
public sealed record MedianStoppingScheduling(
    [property: Id(0)] int GracePeriod,
    [property: Id(1)] int MinSamples) : SchedulerDefinition;

/// <summary>Population-based training.</summary>
[GenerateSerializer, Immutable, Alias("aunce.pbt-scheduling")]
public sealed record PbtScheduling(
    [property: Id(0)] int PerturbationInterval,
    [property: Id(1)] int BurnInPeriod,
    [property: Id(2)] double QuantileFraction,
    [property: Id(3)] double ResampleProbability,
    [property: Id(4)] double[] PerturbationFactors) : SchedulerDefinition;

/// <summary>No pruning: every trial trains to the last epoch.</summary>
[GenerateSerializer, Immutable, Alias("aunce.fifo-scheduling")]
public sealed record FifoScheduling : SchedulerDefinition;
