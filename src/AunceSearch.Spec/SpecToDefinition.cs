using AunceSearch.Contracts;
using AunceSearch.Search;

namespace AunceSearch.Spec;

/// <summary>
/// The one mapping from a validated spec to what the cluster receives: the typed <see cref="SweepDefinition"/> and the
/// wire records in it (the dataset, model and augmentation <c>aunce train</c> uses too, so a configuration trains
/// identically inside and outside a sweep).
/// </summary>
public static class SpecToDefinition
{
    public static SweepDefinition ToDefinition(this SweepSpec spec) => new(
        spec.Name, spec.Seed, spec.Dataset.ToRef(), [.. spec.Dataset.Folds], spec.Model.ToRef(),
        new TrainingDefinition(
            spec.Training.Epochs,
            spec.Training.Hyperparameters.ToDictionary(StringComparer.Ordinal),
            spec.Training.Modes.ToDictionary(StringComparer.Ordinal),
            spec.Training.ProbeSteps,
            spec.Training.ProbeLr,
            Device(spec.Training.Device),
            spec.Training.Augment.ToRef(),
            spec.Training.MaxAttempts),
        new SearchDefinition(
            spec.Search.Trials,
            spec.Search.MaxConcurrentTrials,
            spec.Search.Metric == "accuracy" ? SweepMetric.Accuracy : SweepMetric.F1,
            spec.Search.Mode,
            [.. spec.Search.Space.Domains.Select(ToDefinition)],
            Sampler(spec.Search),
            Scheduler(spec.Search.Scheduler),
            spec.Search.Scheduler.PartialFolds)
        {
            Enqueued = [.. spec.Search.Enqueued.Select(c => c.ToDictionary(StringComparer.Ordinal))],
            SeedResults = [.. spec.Search.SeedResults.Select(r => new SeedResult(r.Config.ToDictionary(StringComparer.Ordinal), r.Value))],
        })
    {
        Retention = spec.Retention,
    };

    public static DatasetRef ToRef(this DatasetSpec d) => new(
        d.Root, d.ListName, d.ImageSize, d.Aus is { } a ? [.. a] : null,
        d.Format == "table" ? DatasetFormat.Table : DatasetFormat.AunceList, d.Labels, d.Images,
        d.Split switch
        {
            "bp4d" => DatasetSplit.Bp4d,
            "disfa" => DatasetSplit.Disfa,
            "parts" => DatasetSplit.Parts,
            "subjects" => DatasetSplit.Subjects,
            "lists" => DatasetSplit.Lists,
            _ => throw new ArgumentException($"dataset split '{d.Split}' (known: {string.Join(", ", DatasetSpec.Splits)})", nameof(d)),
        },
        d.Parts.IsDefaultOrEmpty ? null : [.. d.Parts.Select(p => p.ToArray())], d.SplitFolds, d.FoldLists, d.CropSize, d.SkipBad,
        d.Cache switch
        {
            "memory" => DataCacheMode.Memory,
            "stream" => DataCacheMode.Stream,
            "auto" => DataCacheMode.Auto,
            _ => throw new ArgumentException($"dataset cache '{d.Cache}' (known: auto, memory, stream)", nameof(d)),
        },
        d.Workers, d.Prefetch);

    public static ModelRef ToRef(this ModelSpec m) => new(
        m.Encoder, m.Width, m.FeatureDim, m.Neighbors, m.EmbedDim, m.Depths is { } d ? [.. d] : null, m.Heads is { } h ? [.. h] : null,
        m.Window, m.DropPath, m.Pretrained);

    public static AugmentRef ToRef(this AugmentSpec a) => new(
        a.Mode switch
        {
            "enhance" => AugmentMode.Enhance,
            "basic" => AugmentMode.Basic,
            "none" => AugmentMode.None,
            _ => throw new ArgumentException($"augment mode '{a.Mode}' (known: enhance, basic, none)", nameof(a)),
        },
        a.Flip, a.Jitter, a.Brightness, a.Contrast, a.Saturation, a.Hue, a.Grayscale, a.BlurKernel, a.BlurSigmaMin, a.BlurSigmaMax);

    public static TrainingDevice Device(string device) => device switch
    {
        "cpu" => TrainingDevice.Cpu,
        "cuda" => TrainingDevice.Cuda,
        "auto" => TrainingDevice.Auto,
        _ => throw new ArgumentException($"device '{device}' (known: auto, cpu, cuda)", nameof(device)),
    };

    private static ParameterDefinition ToDefinition(Domain domain)
    {
        ParameterDefinition p = domain switch
        {
            FloatDomain f => new FloatParameter(f.Name, f.Low, f.High, f.Log),
            IntDomain i => new IntParameter(i.Name, i.Low, i.High, i.Step, i.Log),
            CategoricalDomain c => new CategoricalParameter(c.Name, [.. c.Choices]),
            FixedDomain x => new FixedParameter(x.Name, x.Value),
            SimplexDomain s => new SimplexParameter(s.Name, [.. s.Components], s.Fixed.ToDictionary(StringComparer.Ordinal), s.Budget),
            _ => throw new ArgumentException($"no definition for a {domain.GetType().Name} ('{domain.Name}')", nameof(domain)),
        };
        return p with { When = domain.When is { } w ? new ParameterCondition(w.Parameter, [.. w.Values]) : null };
    }

    private static SamplerDefinition Sampler(SearchSpec s) => s.Sampler switch
    {
        "tpe" => new TpeSampling(s.Tpe.StartupTrials, s.Tpe.EiCandidates, s.Tpe.PriorWeight, s.Tpe.ConsiderMagicClip, s.Tpe.ConsiderEndpoints, s.Tpe.Multivariate, s.Tpe.ConstantLiar),
        "grid" => new GridSampling(s.GridPoints),
        "sobol" => new SobolSampling(),
        "random" => new RandomSampling(),
        _ => throw new ArgumentException($"sampler '{s.Sampler}' (known: tpe, random, sobol, grid)", nameof(s)),
    };

    private static SchedulerDefinition Scheduler(SchedulerSpec s) => s.Kind switch
    {
        "asha" => new AshaScheduling(
            s.Variant == "stopping" ? AshaVariant.Stopping : AshaVariant.Promotion, s.GracePeriod, s.ReductionFactor,
            s.SmallRungPolicy, s.MinEarlyStoppingRate,
            [.. s.Objectives.Select(o => new ObjectiveDefinition(Objective(o.Name), o.Direction))]),
        "successive_halving" => new SuccessiveHalvingScheduling(s.GracePeriod, s.ReductionFactor, s.MinEarlyStoppingRate, s.BootstrapCount),
        "hyperband" => new HyperbandScheduling(s.GracePeriod, s.ReductionFactor, s.BootstrapCount),
        "hyperband_sync" => new SynchronousHyperbandScheduling(s.GracePeriod, s.ReductionFactor),
        "median" => new MedianScheduling(s.StartupTrials, s.WarmupSteps, s.IntervalSteps, s.MinTrials),
        "percentile" => new PercentileScheduling(s.Percentile, s.StartupTrials, s.WarmupSteps, s.IntervalSteps, s.MinTrials),
        "median_stopping" => new MedianStoppingScheduling(s.GracePeriod, s.MinSamples),
        "pbt" => new PbtScheduling(s.Pbt.PerturbationInterval, s.Pbt.BurnInPeriod, s.Pbt.QuantileFraction, s.Pbt.ResampleProbability, [.. s.Pbt.PerturbationFactors]),
        "none" => new FifoScheduling(),
        _ => throw new ArgumentException($"scheduler '{s.Kind}' (known: {string.Join(", ", SchedulerSpec.Kinds)})", nameof(s)),
    };

    private static ObjectiveMetric Objective(string name) => name switch
    {
        "f1" => ObjectiveMetric.F1,
        "accuracy" => ObjectiveMetric.Accuracy,
        "seconds" => ObjectiveMetric.Seconds,
        "loss" => ObjectiveMetric.Loss,
        _ => throw new ArgumentException($"objective '{name}' (known: {string.Join(", ", SearchSpec.ObjectiveNames)})", nameof(name)),
    };
}
