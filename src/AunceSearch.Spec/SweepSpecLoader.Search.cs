using System.Collections.Immutable;
using System.Globalization;
using AunceSearch.Contracts;
using AunceSearch.Coordination;
using AunceSearch.Model;
using AunceSearch.Search;
using YamlDotNet.RepresentationModel;

namespace AunceSearch.Spec;

/// <summary>The spec loader: the <c>search:</c> section (sampler, scheduler, warm start).</summary>
public static partial class SweepSpecLoader
{
    /// <summary>What multi-objective ASHA can rank by (<c>search.objectives</c>): fold means of F1, accuracy, seconds per epoch, training loss.</summary>
    public static readonly string[] ObjectiveNames = ["f1", "accuracy", "seconds", "loss"];

    /// <summary>The scheduler kinds (<c>search.scheduler.kind</c>).</summary>
    public static readonly string[] SchedulerKinds = ["asha", "successive_halving", "hyperband", "hyperband_sync", "median", "percentile", "median_stopping", "pbt", "none"];

    private static SearchDefinition ReadSearch(YamlMap map, TrainingDefinition training)
    {
        var space = ReadSpace(map.Map("space"), training);
        var direction = (map.Choice("mode", "max", "min") ?? "max") == "max" ? Direction.Maximize : Direction.Minimize;
        var (scheduler, partialFolds) = ReadScheduler(map.MapOrEmpty("scheduler"), training);
        if (map.Map("objectives") is { } objectives)
        {
            var list = new List<ObjectiveDefinition>();
            foreach (var name in objectives.Keys.ToList())
            {
                if (!ObjectiveNames.Contains(name))
                {
                    objectives.TryNode(name, out var n);
                    throw objectives.Error(n, name, $"unknown objective (known: {string.Join(", ", ObjectiveNames)})");
                }

                list.Add(new ObjectiveDefinition(Enum.Parse<ObjectiveMetric>(name, ignoreCase: true),
                    (objectives.Choice(name, "max", "min") ?? "max") == "max" ? Direction.Maximize : Direction.Minimize));
            }

            if (list.Count < 2)
            {
                throw objectives.Error("multi-objective search needs at least two objectives, e.g. {f1: max, seconds: min}");
            }

            if (scheduler is not AshaScheduling { Variant: AshaVariant.Stopping } asha)
            {
                throw objectives.Error($"multi-objective search runs multi-objective ASHA: set scheduler kind: asha, variant: stopping (not {KindName(scheduler)})");
            }

            if (partialFolds)
            {
                throw objectives.Error("partial_folds is single-objective; remove it or the objectives");
            }

            scheduler = asha with { Objectives = [.. list] };
        }

        var trials = map.Int("trials", 1, 1_000_000) ?? 8;
        var samplerName = map.Choice("sampler", "tpe", "random", "sobol", "grid") ?? "tpe";
        var gridPoints = map.Int("grid_points", 2, 1000) ?? 3;
        var tpe = ReadTpe(map.Map("tpe"));
        SamplerDefinition sampler = samplerName switch
        {
            "grid" => new GridSampling(gridPoints),
            "sobol" => new SobolSampling(),
            "random" => new RandomSampling(),
            _ => tpe,
        };
        var search = new SearchDefinition(
            trials,
            map.Int("max_concurrent_trials", 1, 100_000) ?? 1,
            (map.Choice("metric", "f1", "accuracy") ?? "f1") == "accuracy" ? SweepMetric.Accuracy : SweepMetric.F1,
            direction,
            space,
            sampler,
            scheduler,
            partialFolds)
        {
            Enqueued = [.. (map.List("enqueue") ?? []).Select(n => ReadConfig(map, n, "enqueue"))],
            SeedResults = [.. (map.List("seed_results") ?? []).Select(n => ReadSeedResult(map, n))],
        };
        map.EnsureNoUnknownKeys();
        if (sampler is GridSampling && new GridSampler(0, gridPoints).Size(space.ToSpace()) is var size && size < trials)
        {
            map.TryNode("trials", out var n);
            throw map.Error(n, "trials", $"{trials} trials but the grid has only {size} points (grid_points {gridPoints})");
        }

        return search;
    }

    /// <summary><c>search.scheduler</c>: one closed record per kind, with only that kind's settings (defaults: promotion ASHA, r = 1, η = 2).</summary>
    private static (SchedulerDefinition Scheduler, bool PartialFolds) ReadScheduler(YamlMap s, TrainingDefinition training)
    {
        var kind = s.Choice("kind", SchedulerKinds) ?? "asha";
        var variant = (s.Choice("variant", "promotion", "stopping") ?? "promotion") == "stopping" ? AshaVariant.Stopping : AshaVariant.Promotion;
        var gracePeriod = s.Int("grace_period", 1) ?? s.Int("min_resource", 1) ?? 1;
        var reductionFactor = s.Int("reduction_factor", 2) ?? 2;
        var smallRungPolicy = (s.Choice("small_rung_policy", "ray", "optuna") ?? "ray") == "ray" ? SmallRungPolicy.Ray : SmallRungPolicy.Optuna;
        var minEarlyStoppingRate = s.Int("min_early_stopping_rate", 0) ?? 0;
        var bootstrapCount = s.Int("bootstrap_count", 0) ?? 0;
        var percentile = s.Double("percentile") ?? 25.0;
        var startupTrials = s.Int("n_startup_trials", 0) ?? 5;
        var warmupSteps = s.Int("n_warmup_steps", 0) ?? 0;
        var intervalSteps = s.Int("interval_steps", 1) ?? 1;
        var minTrials = s.Int("n_min_trials", 1) ?? 1;
        var minSamples = s.Int("min_samples", 1) ?? 3;
        var partialFolds = s.Bool("partial_folds") ?? false;
        var pbtKeys = new[] { "perturbation_interval", "burn_in_period", "quantile_fraction", "resample_probability", "perturbation_factors" };
        if (kind != "pbt" && pbtKeys.FirstOrDefault(s.Has) is { } stray)
        {
            s.TryNode(stray, out var n);
            throw s.Error(n, stray, "only used with kind: pbt");
        }

        SchedulerDefinition scheduler = kind switch
        {
            "asha" => new AshaScheduling(variant, gracePeriod, reductionFactor, smallRungPolicy, minEarlyStoppingRate, []),
            "successive_halving" => new SuccessiveHalvingScheduling(gracePeriod, reductionFactor, minEarlyStoppingRate, bootstrapCount),
            "hyperband" => new HyperbandScheduling(gracePeriod, reductionFactor, bootstrapCount),
            "hyperband_sync" => new SynchronousHyperbandScheduling(gracePeriod, reductionFactor),
            "median" => new MedianScheduling(startupTrials, warmupSteps, intervalSteps, minTrials),
            "percentile" => new PercentileScheduling(percentile, startupTrials, warmupSteps, intervalSteps, minTrials),
            "median_stopping" => new MedianStoppingScheduling(gracePeriod, minSamples),
            "pbt" => ReadPbt(s, training),
            _ => new FifoScheduling(),
        };
        if (partialFolds && scheduler is AshaScheduling { Variant: AshaVariant.Promotion } or SynchronousHyperbandScheduling or PbtScheduling or FifoScheduling)
        {
            s.TryNode("partial_folds", out var n);
            throw s.Error(n, "partial_folds", $"needs a scheduler that stops trials (asha with variant: stopping, successive_halving, hyperband, median, percentile, median_stopping); {(scheduler is AshaScheduling ? "asha (promotion)" : KindName(scheduler))} does not");
        }

        if (percentile is < 0 or > 100)
        {
            s.TryNode("percentile", out var n);
            throw s.Error(n, "percentile", "must be between 0 and 100");
        }

        if (gracePeriod > training.Epochs)
        {
            s.TryNode(s.Has("grace_period") ? "grace_period" : "min_resource", out var n);
            throw s.Error(n, "grace_period", $"must be <= training.epochs ({training.Epochs})");
        }

        if (kind == "hyperband" && gracePeriod >= training.Epochs)
        {
            throw s.Error($"hyperband needs min_resource ({gracePeriod}) < training.epochs ({training.Epochs})");
        }

        s.EnsureNoUnknownKeys();
        return (scheduler, partialFolds);
    }

    private static PbtScheduling ReadPbt(YamlMap s, TrainingDefinition training)
    {
        var o = new PbtScheduling(
            s.Int("perturbation_interval", 1) ?? 2,
            s.Int("burn_in_period", 0) ?? 0,
            s.Double("quantile_fraction") ?? 0.25,
            s.Double("resample_probability") ?? 0.25,
            s.List("perturbation_factors")?.Select(n => s.ParseDouble(n, "perturbation_factors")).ToArray() ?? [1.2, 0.8]);
        string? problem = o switch
        {
            _ when o.PerturbationInterval >= training.Epochs => $"perturbation_interval ({o.PerturbationInterval}) must be < training.epochs ({training.Epochs})",
            _ when o.QuantileFraction is <= 0 or > 0.5 => "quantile_fraction must be in (0, 0.5]",
            _ when o.ResampleProbability is < 0 or > 1 => "resample_probability must be in [0, 1]",
            _ when o.PerturbationFactors.Length == 0 || o.PerturbationFactors.Any(f => f <= 0) => "perturbation_factors must be a non-empty list of positive factors",
            _ => null,
        };
        return problem is null ? o : throw s.Error(problem);
    }

    /// <summary>How a scheduler is named in errors: its YAML kind (and ASHA's variant).</summary>
    private static string KindName(SchedulerDefinition scheduler) => scheduler switch
    {
        AshaScheduling a => $"asha {(a.Variant == AshaVariant.Stopping ? "stopping" : "promotion")}",
        SuccessiveHalvingScheduling => "successive_halving",
        HyperbandScheduling => "hyperband",
        SynchronousHyperbandScheduling => "hyperband_sync",
        MedianScheduling => "median",
        PercentileScheduling => "percentile",
        MedianStoppingScheduling => "median_stopping",
        PbtScheduling => "pbt",
        _ => "none",
    };

    /// <summary>A configuration: known hyperparameters with valid values; positive-pair probabilities all or none, summing to 1.</summary>
    private static Dictionary<string, string> ReadConfig(YamlMap parent, YamlNode node, string key)
    {
        if (node is not YamlMappingNode m)
        {
            throw parent.Error(node, key, "each entry must be a mapping of hyperparameter: value");
        }

        var map = new YamlMap(m, parent.File, parent.Field(key));
        var config = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var name in map.Keys.ToList())
        {
            map.TryNode(name, out var v);
            if (!TrainingVocabulary.Hyperparameters.ContainsKey(name))
            {
                throw map.Error(v, name, $"unknown hyperparameter '{name}'");
            }

            var value = map.ParseDouble(v, name);
            CheckHyperparameter(map, v, name, value);
            config[name] = value.ToString("R", CultureInfo.InvariantCulture);
        }

        var given = TrainingVocabulary.Probabilities.Where(config.ContainsKey).ToList();
        if (given.Count > 0 && (given.Count != TrainingVocabulary.Probabilities.Length ||
            Math.Abs(given.Sum(p => double.Parse(config[p], CultureInfo.InvariantCulture)) - 1) > 1e-6))
        {
            throw map.Error("give all of p_max, p_aug, p_mix, p_min (summing to 1) or none of them");
        }

        map.EnsureNoUnknownKeys();
        return config.ToDictionary(StringComparer.Ordinal);
    }

    /// <summary><c>search.tpe</c>: Optuna's defaults, with multivariate and constant liar on (as in Optuna 5).</summary>
    private static TpeSampling ReadTpe(YamlMap? t)
    {
        var o = new TpeOptions { Multivariate = true, ConstantLiar = true };
        if (t is not null)
        {
            o = o with
            {
                StartupTrials = t.Int("n_startup_trials", 0) ?? o.StartupTrials,
                EiCandidates = t.Int("n_ei_candidates", 1) ?? o.EiCandidates,
                PriorWeight = t.Double("prior_weight") ?? o.PriorWeight,
                Multivariate = t.Bool("multivariate") ?? o.Multivariate,
                ConstantLiar = t.Bool("constant_liar") ?? o.ConstantLiar,
                ConsiderMagicClip = t.Bool("consider_magic_clip") ?? o.ConsiderMagicClip,
                ConsiderEndpoints = t.Bool("consider_endpoints") ?? o.ConsiderEndpoints,
            };
            if (o.PriorWeight <= 0)
            {
                t.TryNode("prior_weight", out var n);
                throw t.Error(n, "prior_weight", "must be > 0");
            }

            t.EnsureNoUnknownKeys();
        }

        return new TpeSampling(o.StartupTrials, o.EiCandidates, o.PriorWeight, o.ConsiderMagicClip, o.ConsiderEndpoints, o.Multivariate, o.ConstantLiar);
    }

    private static SeedResult ReadSeedResult(YamlMap parent, YamlNode node)
    {
        if (node is not YamlMappingNode m)
        {
            throw parent.Error(node, "seed_results", "each entry must be {config: {...}, value: number}");
        }

        var map = new YamlMap(m, parent.File, parent.Field("seed_results"));
        if (!map.TryNode("config", out var c))
        {
            throw map.Error("missing 'config'");
        }

        var config = ReadConfig(map, c, "config");
        var value = map.Double("value") ?? throw map.Error("missing 'value'");
        map.EnsureNoUnknownKeys();
        return new SeedResult(config, value);
    }
}
