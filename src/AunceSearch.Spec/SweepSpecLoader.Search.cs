using System.Collections.Immutable;
using System.Globalization;
using AunceSearch.Model;
using AunceSearch.Search;
using YamlDotNet.RepresentationModel;

namespace AunceSearch.Spec;

/// <summary>The spec loader: the <c>search:</c> section (sampler, scheduler, warm start).</summary>
public static partial class SweepSpecLoader
{
    private static SearchSpec ReadSearch(YamlMap map, TrainingSpec training)
    {
        var space = ReadSpace(map.Map("space"), training);
        var direction = (map.Choice("mode", "max", "min") ?? "max") == "max" ? Direction.Maximize : Direction.Minimize;
        var scheduler = new SchedulerSpec();
        if (map.Map("scheduler") is { } s)
        {
            var kind = s.Choice("kind", SchedulerSpec.Kinds) ?? "asha";
            scheduler = new SchedulerSpec
            {
                Kind = kind,
                Variant = s.Choice("variant", "promotion", "stopping") ?? "promotion",
                GracePeriod = s.Int("grace_period", 1) ?? s.Int("min_resource", 1) ?? 1,
                ReductionFactor = s.Int("reduction_factor", 2) ?? 2,
                SmallRungPolicy = (s.Choice("small_rung_policy", "ray", "optuna") ?? "ray") == "ray" ? SmallRungPolicy.Ray : SmallRungPolicy.Optuna,
                MinEarlyStoppingRate = s.Int("min_early_stopping_rate", 0) ?? 0,
                BootstrapCount = s.Int("bootstrap_count", 0) ?? 0,
                Percentile = s.Double("percentile") ?? 25.0,
                StartupTrials = s.Int("n_startup_trials", 0) ?? 5,
                WarmupSteps = s.Int("n_warmup_steps", 0) ?? 0,
                IntervalSteps = s.Int("interval_steps", 1) ?? 1,
                MinTrials = s.Int("n_min_trials", 1) ?? 1,
                MinSamples = s.Int("min_samples", 1) ?? 3,
                PartialFolds = s.Bool("partial_folds") ?? false,
                Pbt = new Search.Schedulers.PbtOptions
                {
                    PerturbationInterval = s.Int("perturbation_interval", 1) ?? 2,
                    BurnInPeriod = s.Int("burn_in_period", 0) ?? 0,
                    QuantileFraction = s.Double("quantile_fraction") ?? 0.25,
                    ResampleProbability = s.Double("resample_probability") ?? 0.25,
                    PerturbationFactors = s.List("perturbation_factors")?.Select(n => s.ParseDouble(n, "perturbation_factors")).ToImmutableArray() ?? [1.2, 0.8],
                },
            };
            var pbtKeys = new[] { "perturbation_interval", "burn_in_period", "quantile_fraction", "resample_probability", "perturbation_factors" };
            if (kind != "pbt" && pbtKeys.FirstOrDefault(s.Has) is { } stray)
            {
                s.TryNode(stray, out var n);
                throw s.Error(n, stray, "only used with kind: pbt");
            }

            if (kind == "pbt")
            {
                var o = scheduler.Pbt;
                string? problem = o switch
                {
                    _ when o.PerturbationInterval >= training.Epochs => $"perturbation_interval ({o.PerturbationInterval}) must be < training.epochs ({training.Epochs})",
                    _ when o.QuantileFraction is <= 0 or > 0.5 => "quantile_fraction must be in (0, 0.5]",
                    _ when o.ResampleProbability is < 0 or > 1 => "resample_probability must be in [0, 1]",
                    _ when o.PerturbationFactors.IsDefaultOrEmpty || o.PerturbationFactors.Any(f => f <= 0) => "perturbation_factors must be a non-empty list of positive factors",
                    _ => null,
                };
                if (problem is not null)
                {
                    throw s.Error(problem);
                }
            }

            if (scheduler.PartialFolds && ((kind == "asha" && scheduler.Variant != "stopping") || kind is "hyperband_sync" or "pbt" or "none"))
            {
                s.TryNode("partial_folds", out var n);
                throw s.Error(n, "partial_folds", $"needs a scheduler that stops trials (asha with variant: stopping, successive_halving, hyperband, median, percentile, median_stopping); {kind}{(kind == "asha" ? " (promotion)" : "")} does not");
            }

            if (scheduler.Percentile is < 0 or > 100)
            {
                s.TryNode("percentile", out var n);
                throw s.Error(n, "percentile", "must be between 0 and 100");
            }

            if (scheduler.GracePeriod > training.Epochs)
            {
                s.TryNode(s.Has("grace_period") ? "grace_period" : "min_resource", out var n);
                throw s.Error(n, "grace_period", $"must be <= training.epochs ({training.Epochs})");
            }

            if (kind == "hyperband" && scheduler.GracePeriod >= training.Epochs)
            {
                throw s.Error($"hyperband needs min_resource ({scheduler.GracePeriod}) < training.epochs ({training.Epochs})");
            }

            s.EnsureNoUnknownKeys();
        }

        if (map.Map("objectives") is { } objectives)
        {
            var list = new List<(string, Direction)>();
            foreach (var name in objectives.Keys.ToList())
            {
                if (!SearchSpec.ObjectiveNames.Contains(name))
                {
                    objectives.TryNode(name, out var n);
                    throw objectives.Error(n, name, $"unknown objective (known: {string.Join(", ", SearchSpec.ObjectiveNames)})");
                }

                list.Add((name, (objectives.Choice(name, "max", "min") ?? "max") == "max" ? Direction.Maximize : Direction.Minimize));
            }

            if (list.Count < 2)
            {
                throw objectives.Error("multi-objective search needs at least two objectives, e.g. {f1: max, seconds: min}");
            }

            if (scheduler.Kind != "asha" || scheduler.Variant != "stopping")
            {
                throw objectives.Error($"multi-objective search runs multi-objective ASHA: set scheduler kind: asha, variant: stopping (not {scheduler.Kind}{(scheduler.Kind == "asha" ? " " + scheduler.Variant : "")})");
            }

            if (scheduler.PartialFolds)
            {
                throw objectives.Error("partial_folds is single-objective; remove it or the objectives");
            }

            scheduler = scheduler with { Objectives = [.. list] };
        }

        var spec = new SearchSpec
        {
            Trials = map.Int("trials", 1, 1_000_000) ?? 8,
            MaxConcurrentTrials = map.Int("max_concurrent_trials", 1, 100_000) ?? 1,
            Sampler = map.Choice("sampler", "tpe", "random", "sobol", "grid") ?? "tpe",
            Tpe = ReadTpe(map.Map("tpe")),
            Enqueued = [.. (map.List("enqueue") ?? []).Select(n => ReadConfig(map, n, "enqueue"))],
            SeedResults = [.. (map.List("seed_results") ?? []).Select(n => ReadSeedResult(map, n))],
            GridPoints = map.Int("grid_points", 2, 1000) ?? 3,
            Space = space,
            Scheduler = scheduler,
            Metric = map.Choice("metric", "f1", "accuracy") ?? "f1",
            Mode = direction,
        };
        map.EnsureNoUnknownKeys();
        if (spec.Sampler == "grid" && new GridSampler(0, spec.GridPoints).Size(space) is var size && size < spec.Trials)
        {
            map.TryNode("trials", out var n);
            throw map.Error(n, "trials", $"{spec.Trials} trials but the grid has only {size} points (grid_points {spec.GridPoints})");
        }

        return spec;
    }

    /// <summary>A configuration: known hyperparameters with valid values; positive-pair probabilities all or none, summing to 1.</summary>
    private static ImmutableSortedDictionary<string, string> ReadConfig(YamlMap parent, YamlNode node, string key)
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
            if (!SpecDefaults.Hyperparameters.ContainsKey(name))
            {
                throw map.Error(v, name, $"unknown hyperparameter '{name}'");
            }

            var value = map.ParseDouble(v, name);
            CheckHyperparameter(map, v, name, value);
            config[name] = value.ToString("R", CultureInfo.InvariantCulture);
        }

        var given = SpecDefaults.Probabilities.Where(config.ContainsKey).ToList();
        if (given.Count > 0 && (given.Count != SpecDefaults.Probabilities.Length ||
            Math.Abs(given.Sum(p => double.Parse(config[p], CultureInfo.InvariantCulture)) - 1) > 1e-6))
        {
            throw map.Error("give all of p_max, p_aug, p_mix, p_min (summing to 1) or none of them");
        }

        map.EnsureNoUnknownKeys();
        return config.ToImmutable();
    }

    private static TpeOptions ReadTpe(YamlMap? t)
    {
        var o = new TpeOptions { Multivariate = true, ConstantLiar = true };
        if (t is null)
        {
            return o;
        }

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
        return o;
    }

    private static (ImmutableSortedDictionary<string, string>, double) ReadSeedResult(YamlMap parent, YamlNode node)
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
        return (config, value);
    }
}
