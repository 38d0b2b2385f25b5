using System.Collections.Immutable;
using System.Globalization;
using AunceSearch.Contracts;
using AunceSearch.Model;
using AunceSearch.Search;
using YamlDotNet.RepresentationModel;

namespace AunceSearch.Spec;

/// <summary>Parses and validates sweep specifications. Every error is a <see cref="SpecException"/> naming file:line:column and field.</summary>
public static class SweepSpecLoader
{
    /// <summary>Loads a spec file. Relative dataset paths are resolved against the file's folder.</summary>
    public static SweepSpec LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new SpecException(Directory.Exists(path) ? $"{path}: is a directory, not a sweep spec file" : $"{path}: sweep spec file not found");
        }

        var full = Path.GetFullPath(path);
        return Parse(File.ReadAllText(full), path, Path.GetDirectoryName(full)!);
    }

    /// <summary>Parses spec text; <paramref name="file"/> names it in errors, <paramref name="baseDirectory"/> anchors relative paths.</summary>
    public static SweepSpec Parse(string yaml, string file, string baseDirectory)
    {
        var root = YamlMap.Load(yaml, file);
        var name = root.String("name") ?? "sweep";
        if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            root.TryNode("name", out var n);
            throw root.Error(n, "name", $"'{name}' must be non-empty and use only letters, digits, '-', '_' and '.'");
        }

        var seed = root.Long("seed") ?? 0;
        if (seed < 0)
        {
            root.TryNode("seed", out var n);
            throw root.Error(n, "seed", "must be >= 0");
        }

        var dataset = ReadDataset(root.RequiredMap("dataset"), baseDirectory);
        var model = ReadModel(root.Map("model"), baseDirectory);
        var training = ReadTraining(root.Map("training"));
        var search = ReadSearch(root.RequiredMap("search"), training);
        var retention = ReadRetention(root.Map("checkpoints"));
        root.EnsureNoUnknownKeys();
        return new SweepSpec { Name = name, Seed = (ulong)seed, Dataset = dataset, Model = model, Training = training, Search = search, Retention = retention };
    }

    /// <summary>
    /// <c>checkpoints: {keep: best-k, k: 3}</c> (the default: a ResNet-50 + AdamW checkpoint is about 300 MB, so keeping every
    /// fold's every epoch of a 100-trial, 3-fold, 20-epoch sweep would be 1.8 TB) or <c>{keep: all}</c>.
    /// </summary>
    private static CheckpointRetention ReadRetention(YamlMap? map)
    {
        if (map is null)
        {
            return CheckpointRetention.Default;
        }

        var keep = map.Choice("keep", "all", "best-k") ?? "best-k";
        var k = map.Int("k", 1, 100_000);
        if (keep == "all" && k is not null)
        {
            map.TryNode("k", out var n);
            throw map.Error(n, "k", "only applies to keep: best-k");
        }

        map.EnsureNoUnknownKeys();
        return keep == "all" ? CheckpointRetention.All : new CheckpointRetention(RetentionKind.BestK, k ?? CheckpointRetention.Default.K);
    }

    private static DatasetSpec ReadDataset(YamlMap map, string baseDirectory)
    {
        var format = map.Choice("format", DatasetSpec.Formats) ?? "aunce-list";
        var root = map.RequiredString("root");
        var listName = map.String("list_name") ?? "SYN";
        var folds = (map.List("folds") ?? []).Select(n => (int)map.ParseLong(n, "folds")).ToImmutableArray();
        if (!map.Has("folds"))
        {
            folds = [1, 2, 3];
        }

        if (folds.Length == 0 || folds.Any(f => f < 1) || folds.Distinct().Count() != folds.Length)
        {
            map.TryNode("folds", out var n);
            throw map.Error(n, "folds", "must be a non-empty list of distinct fold numbers >= 1");
        }

        var aus = map.StringList("aus")?.ToImmutableArray();
        if (aus is { Length: 0 })
        {
            map.TryNode("aus", out var n);
            throw map.Error(n, "aus", "must list at least one AU");
        }

        var imageSize = map.Int("image_size", 16, 1024) ?? 48;
        var cropSize = map.Int("crop_size", 8, 1024) ?? 0;
        if (cropSize > imageSize)
        {
            map.TryNode("crop_size", out var n);
            throw map.Error(n, "crop_size", $"{cropSize} is larger than image_size {imageSize}");
        }

        var split = map.Choice("split", DatasetSpec.Splits) ?? (format == "table" ? "subjects" : "lists");
        if (format == "aunce-list" && split != "lists")
        {
            map.TryNode("split", out var n);
            throw map.Error(n, "split", "the aunce-list layout's folds are its list files (split: lists); use format: table to split by subject parts");
        }

        var parts = (map.List("parts") ?? []).Select(node => node is YamlDotNet.RepresentationModel.YamlSequenceNode seq
                ? seq.Children.Select(c => (c as YamlDotNet.RepresentationModel.YamlScalarNode)?.Value ?? throw map.Error(c, "parts", "subject ids must be scalars")).ToImmutableArray()
                : throw map.Error(node, "parts", "each part must be a list of subject ids")).ToImmutableArray();
        if (split == "parts" && parts.Length < 2)
        {
            throw map.Error("split: parts needs 'parts' with at least two lists of subject ids");
        }

        if (split != "parts" && map.TryNode("parts", out var partsNode))
        {
            throw map.Error(partsNode, "parts", "only used with split: parts");
        }

        var dupSubject = parts.SelectMany(p => p).GroupBy(x => x, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dupSubject is not null)
        {
            map.TryNode("parts", out var n);
            throw map.Error(n, "parts", $"subject {dupSubject.Key} is in more than one part");
        }

        var splitFolds = map.Int("split_folds", 2, 1000) ?? 3;
        var foldLists = map.String("fold_lists");
        if (format == "table" && split == "lists" && foldLists is null)
        {
            throw map.Error("a table split by lists needs 'fold_lists', e.g. folds/{split}_fold{fold}.txt");
        }

        if (foldLists is not null && (format != "table" || split != "lists"))
        {
            map.TryNode("fold_lists", out var n);
            throw map.Error(n, "fold_lists", "only used with format: table and split: lists");
        }

        var partCount = split switch
        {
            "bp4d" or "disfa" => 3,
            "parts" => parts.Length,
            "subjects" => splitFolds,
            _ => int.MaxValue,
        };
        if (folds.Max() > partCount)
        {
            map.TryNode("folds", out var n);
            throw map.Error(n, "folds", $"fold {folds.Max()} does not exist: split {split} has {partCount} folds");
        }

        var labels = map.String("labels") ?? "labels.csv";
        var images = map.String("images") ?? "";
        if (format != "table" && (map.Has("labels") || map.Has("images")))
        {
            throw map.Error("'labels' and 'images' are only used with format: table");
        }

        var skipBad = map.Bool("skip_bad") ?? false;
        var cache = map.Choice("cache", "auto", "memory", "stream") ?? "auto";
        var workers = map.Int("workers", 0, 256) ?? 0;
        var prefetch = map.Int("prefetch", 1, 64) ?? 4;
        SyntheticSpec? synthetic = null;
        if (map.Map("synthetic") is { } syn)
        {
            var rates = syn.List("occurrence_rates")?.Select(n => syn.ParseDouble(n, "occurrence_rates")).ToImmutableArray()
                        ?? SpecDefaults.Bp4dOccurrence;
            if (rates.Any(r => r <= 0 || r >= 1))
            {
                syn.TryNode("occurrence_rates", out var n);
                throw syn.Error(n, "occurrence_rates", "every rate must be strictly between 0 and 1");
            }

            var noise = syn.Double("label_noise") ?? 0.05;
            if (noise is < 0 or >= 0.5)
            {
                syn.TryNode("label_noise", out var n);
                throw syn.Error(n, "label_noise", $"must be in [0, 0.5), got {noise.ToString(CultureInfo.InvariantCulture)}");
            }

            synthetic = new SyntheticSpec
            {
                Subjects = syn.Int("subjects", 3, 10_000) ?? 12,
                ImagesPerSubject = syn.Int("images_per_subject", 1, 1_000_000) ?? 40,
                ImageSize = syn.Int("image_size", 32, 512) ?? 64,
                LabelNoise = noise,
                OccurrenceRates = rates,
                Folds = syn.Int("folds", 2, 100) ?? 3,
                Seed = syn.Int("seed", 0) ?? 1,
            };
            syn.EnsureNoUnknownKeys();
            if (aus is { } a && a.Length != rates.Length)
            {
                throw map.Error($"aus lists {a.Length} AUs but synthetic.occurrence_rates has {rates.Length}");
            }

            if (format != "aunce-list")
            {
                throw map.Error("a synthetic dataset is generated in the aunce-list layout; remove 'format: table'");
            }

            if (folds.Max() > synthetic.Folds)
            {
                map.TryNode("folds", out var n);
                throw map.Error(n, "folds", $"fold {folds.Max()} does not exist: synthetic.folds is {synthetic.Folds}");
            }
        }

        map.EnsureNoUnknownKeys();
        return new DatasetSpec
        {
            Format = format,
            Root = Path.GetFullPath(Path.Combine(baseDirectory, root)),
            ListName = listName,
            Folds = folds,
            Aus = aus,
            ImageSize = imageSize,
            Synthetic = synthetic,
            Labels = labels,
            Images = images,
            Split = split,
            Parts = parts,
            SplitFolds = splitFolds,
            FoldLists = foldLists,
            CropSize = cropSize,
            SkipBad = skipBad,
            Cache = cache,
            Workers = workers,
            Prefetch = prefetch,
        };
    }

    private static ModelSpec ReadModel(YamlMap? map, string baseDirectory)
    {
        if (map is null)
        {
            return new ModelSpec();
        }

        ImmutableArray<int>? IntList(string key)
        {
            if (map.List(key) is not { } items)
            {
                return null;
            }

            map.TryNode(key, out var node);
            if (items.Count != 4)
            {
                throw map.Error(node, key, $"give one value per stage (4), got {items.Count}");
            }

            return [.. items.Select(i =>
            {
                var v = map.ParseLong(i, key);
                return v is >= 1 and <= 1024 ? (int)v : throw map.Error(i, key, $"values must be in [1, 1024], got {v}");
            })];
        }

        var pretrained = map.String("pretrained");
        if (pretrained is not null)
        {
            map.TryNode("pretrained", out var node);
            pretrained = Path.GetFullPath(Path.Combine(baseDirectory, pretrained));
            if (!File.Exists(pretrained))
            {
                throw map.Error(node, "pretrained", $"file not found: {pretrained}");
            }
        }

        var spec = new ModelSpec
        {
            Encoder = map.Choice("encoder", ModelSpec.Encoders) ?? "small-cnn",
            Width = map.Int("width", 4, 1024) ?? 0,
            FeatureDim = map.Int("feature_dim", 2, 8192) ?? 32,
            Neighbors = map.Int("neighbors", 1, 1024) ?? 4,
            EmbedDim = map.Int("embed_dim", 4, 4096),
            Depths = IntList("depths"),
            Heads = IntList("heads"),
            Window = map.Int("window", 1, 64),
            DropPath = map.Double("drop_path") is { } dp ? (dp is >= 0 and < 1 ? dp : throw map.Error("drop_path must be in [0, 1)")) : null,
            Pretrained = pretrained,
        };
        if (spec.Pretrained is not null && spec.Encoder == "small-cnn")
        {
            throw map.Error("pretrained weights need a resnet or swin encoder, not small-cnn");
        }

        map.EnsureNoUnknownKeys();
        return spec;
    }

    private static TrainingSpec ReadTraining(YamlMap? map)
    {
        var hp = SpecDefaults.Hyperparameters.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        if (map is null)
        {
            return new TrainingSpec { Hyperparameters = Format(hp) };
        }

        foreach (var key in SpecDefaults.Hyperparameters.Keys)
        {
            if (map.TryNode(key, out var node))
            {
                hp[key] = map.ParseDouble(node, key);
                CheckHyperparameter(map, node, key, hp[key]);
            }
        }

        var sum = SpecDefaults.Probabilities.Sum(p => hp[p]);
        if (Math.Abs(sum - 1.0) > 1e-6)
        {
            throw map.Error($"the positive-pair probabilities p_max + p_aug + p_mix + p_min must sum to 1, got {sum.ToString("0.######", CultureInfo.InvariantCulture)}");
        }

        var spec = new TrainingSpec
        {
            Epochs = map.Int("epochs", 1, 100_000) ?? 4,
            Positives = map.Choice("positives", "reference", "paper") ?? "reference",
            Modes = SpecDefaults.TrainingModes.ToImmutableSortedDictionary(kv => kv.Key, kv => map.Choice(kv.Key, kv.Value) ?? kv.Value[0], StringComparer.Ordinal),
            ProbeSteps = map.Int("probe_steps", 1, 100_000) ?? 60,
            MaxAttempts = map.Int("max_attempts", 1, 100) ?? TrainingDefinition.DefaultMaxAttempts,
            Augment = ReadAugment(map.Map("augment")),
            ProbeLr = map.Double("probe_lr") ?? 0.05,
            Device = map.Choice("device", "auto", "cpu", "cuda") ?? "auto",
            Hyperparameters = Format(hp),
        };
        spec = spec with { Hyperparameters = spec.Hyperparameters.SetItems(spec.Modes.Where(kv => kv.Value != SpecDefaults.TrainingModes[kv.Key][0])) };   // non-default modes travel with each trial
        if (hp["p_min"] != 0 && spec.Positives == "reference")
        {
            map.TryNode("p_min", out var n);
            throw map.Error(n, "p_min", "positives: reference has no lowest-similarity positive; p_min must be 0");
        }

        map.EnsureNoUnknownKeys();
        return spec;
    }

    private static AugmentSpec ReadAugment(YamlMap? map)
    {
        if (map is null)
        {
            return new AugmentSpec();
        }

        double Probability(string key, double fallback, double max = 1)
        {
            var v = map.Double(key) ?? fallback;
            if (v < 0 || v > max)
            {
                map.TryNode(key, out var n);
                throw map.Error(n, key, $"must be in [0, {max.ToString(CultureInfo.InvariantCulture)}], got {v.ToString(CultureInfo.InvariantCulture)}");
            }

            return v;
        }

        var kernel = map.Int("blur_kernel", 0, 31) ?? 3;
        if (kernel % 2 == 0 && kernel != 0)
        {
            map.TryNode("blur_kernel", out var n);
            throw map.Error(n, "blur_kernel", $"must be 0 (no blur) or odd, got {kernel}");
        }

        var sigma = map.List("blur_sigma")?.Select(n => map.ParseDouble(n, "blur_sigma")).ToArray() ?? [0.1, 2.0];
        if (sigma.Length != 2 || sigma[0] <= 0 || sigma[1] < sigma[0])
        {
            map.TryNode("blur_sigma", out var n);
            throw map.Error(n, "blur_sigma", "must be [min, max] with 0 < min <= max");
        }

        var spec = new AugmentSpec
        {
            Mode = map.Choice("mode", "enhance", "basic", "none") ?? "enhance",
            Flip = Probability("flip", 0.5),
            Jitter = Probability("jitter", 0.8),
            Brightness = Probability("brightness", 0.4),
            Contrast = Probability("contrast", 0.4),
            Saturation = Probability("saturation", 0.4),
            Hue = Probability("hue", 0.1, 0.5),
            Grayscale = Probability("grayscale", 0.2),
            BlurKernel = kernel,
            BlurSigmaMin = sigma[0],
            BlurSigmaMax = sigma[1],
        };
        map.EnsureNoUnknownKeys();
        return spec;
    }

    private static void CheckHyperparameter(YamlMap map, YamlNode node, string key, double value)
    {
        var problem = key switch
        {
            "lr" when value <= 0 => "must be > 0",
            "weight_decay" when value < 0 => "must be >= 0",
            "batch_size" when value < 2 || value != Math.Floor(value) => "must be an integer >= 2",
            "temperature" when value <= 0 => "must be > 0",
            "lambda_min" or "lambda_maj" when value < 0 => "must be >= 0",
            "p_max" or "p_aug" or "p_mix" or "p_min" when value is < 0 or > 1 => "must be in [0, 1]",
            _ => null,
        };
        if (problem is not null)
        {
            throw map.Error(node, key, $"{problem}, got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static ImmutableSortedDictionary<string, string> Format(Dictionary<string, double> hp) =>
        hp.ToImmutableSortedDictionary(kv => kv.Key, kv => kv.Value.ToString("R", CultureInfo.InvariantCulture), StringComparer.Ordinal);

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

    private static SearchSpace ReadSpace(YamlMap? map, TrainingSpec training)
    {
        if (map is null)
        {
            return new SearchSpace([]);
        }

        var domains = new List<Domain>();
        var assigned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in map.Keys.ToList())
        {
            var d = map.RequiredMap(key);
            var when = ReadWhen(d);
            Domain domain;
            if (d.Has("simplex"))
            {
                domain = ReadSimplex(d, key, training);
            }
            else
            {
                if (!SpecDefaults.Hyperparameters.ContainsKey(key))
                {
                    map.TryNode(key, out var n);
                    throw map.Error(n, key, $"unknown hyperparameter '{key}' (known: {string.Join(", ", SpecDefaults.Hyperparameters.Keys)})");
                }

                if (SpecDefaults.Probabilities.Contains(key))
                {
                    throw d.Error($"{key} is a positive-pair probability: search it inside a simplex group, e.g. positives: {{simplex: [p_max, p_aug, p_mix, p_min]}}");
                }

                domain = ReadScalarDomain(d, key);
            }

            domain = domain with { When = when };
            foreach (var p in domain.ParameterNames)
            {
                if (!assigned.Add(p))
                {
                    throw d.Error($"parameter '{p}' is searched more than once");
                }
            }

            domains.Add(domain);
        }

        map.EnsureNoUnknownKeys();
        try
        {
            return new SearchSpace(domains);
        }
        catch (ArgumentException e)
        {
            throw map.Error(e.Message.Split(" (Parameter", 2)[0]);
        }
    }

    /// <summary><c>when: {parameter: [values]}</c>: the domain is active only when that earlier parameter has one of the values.</summary>
    private static DomainCondition? ReadWhen(YamlMap d)
    {
        if (d.Map("when") is not { } w)
        {
            return null;
        }

        var keys = w.Keys.ToList();
        if (keys.Count != 1)
        {
            throw w.Error("give exactly one parameter: when: {parameter: [values]}");
        }

        var values = w.List(keys[0]) ?? [];
        if (values.Count == 0)
        {
            throw w.Error($"list at least one value of '{keys[0]}'");
        }

        var normalised = values.Select(v => w.ParseDouble(v, keys[0]).ToString("R", CultureInfo.InvariantCulture)).ToImmutableArray();
        w.EnsureNoUnknownKeys();
        return new DomainCondition(keys[0], normalised);
    }

    private static Domain ReadScalarDomain(YamlMap d, string key)
    {
        string[] kinds = ["uniform", "log_uniform", "int", "log_int", "choice", "fixed"];
        var present = kinds.Where(d.Has).ToList();
        if (present.Count != 1)
        {
            throw d.Error($"give exactly one of {string.Join(", ", kinds)}");
        }

        var kind = present[0];
        Domain domain;
        if (kind == "fixed")
        {
            d.TryNode("fixed", out var node);
            var value = d.ParseDouble(node, "fixed");
            CheckHyperparameter(d, node, "fixed", value);
            CheckBound(d, node, key, value);
            domain = new FixedDomain(key, value.ToString("R", CultureInfo.InvariantCulture));
        }
        else if (kind == "choice")
        {
            var items = d.List("choice")!;
            if (items.Count == 0)
            {
                throw d.Error("choice must list at least one value");
            }

            foreach (var item in items)
            {
                CheckBound(d, item, key, d.ParseDouble(item, "choice"));
            }

            domain = new CategoricalDomain(key, [.. items.Select(i => d.ParseDouble(i, "choice").ToString("R", CultureInfo.InvariantCulture))]);
        }
        else
        {
            var bounds = d.List(kind)!;
            if (bounds.Count != 2)
            {
                d.TryNode(kind, out var n);
                throw d.Error(n, kind, "must be [low, high]");
            }

            var low = d.ParseDouble(bounds[0], kind);
            var high = d.ParseDouble(bounds[1], kind);
            if (!(low < high))
            {
                throw d.Error(bounds[0], kind, $"low ({low.ToString(CultureInfo.InvariantCulture)}) must be < high ({high.ToString(CultureInfo.InvariantCulture)})");
            }

            var log = kind.StartsWith("log_", StringComparison.Ordinal);
            if (log && low <= 0)
            {
                throw d.Error(bounds[0], kind, $"a log scale needs low > 0, got {low.ToString(CultureInfo.InvariantCulture)}");
            }

            CheckBound(d, bounds[0], key, low);
            CheckBound(d, bounds[1], key, high);
            if (kind is "int" or "log_int" || key == "batch_size")
            {
                if (low != Math.Floor(low) || high != Math.Floor(high))
                {
                    throw d.Error(bounds[0], kind, "integer bounds expected");
                }

                var step = d.Long("step") ?? 1;
                domain = new IntDomain(key, (long)low, (long)high, step, log);
            }
            else
            {
                domain = new FloatDomain(key, low, high, log);
            }
        }

        d.EnsureNoUnknownKeys();
        return domain;
    }

    private static void CheckBound(YamlMap d, YamlNode node, string key, double value)
    {
        var problem = key switch
        {
            "temperature" or "lr" when value <= 0 => $"{key} must be > 0",
            "lambda_min" or "lambda_maj" or "weight_decay" when value < 0 => $"{key} must be >= 0",
            "batch_size" when value < 2 => "batch_size must be >= 2",
            _ => null,
        };
        if (problem is not null)
        {
            throw new SpecException($"{YamlMap.At(d.File, node)}: {d.Path}: {problem}, got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static SimplexDomain ReadSimplex(YamlMap d, string key, TrainingSpec training)
    {
        var components = d.StringList("simplex")!.ToImmutableArray();
        d.TryNode("simplex", out var node);
        foreach (var c in components)
        {
            if (!SpecDefaults.Probabilities.Contains(c))
            {
                throw d.Error(node, "simplex", $"'{c}' is not a positive-pair probability ({string.Join(", ", SpecDefaults.Probabilities)})");
            }
        }

        if (components.Length < 2 || components.Distinct().Count() != components.Length)
        {
            throw d.Error(node, "simplex", "list at least two distinct probabilities");
        }

        var fixedValues = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        if (d.Map("fixed") is { } f)
        {
            foreach (var c in f.Keys.ToList())
            {
                f.TryNode(c, out var vn);
                if (!components.Contains(c))
                {
                    throw f.Error(vn, c, $"'{c}' is not one of the simplex components");
                }

                var v = f.ParseDouble(vn, c);
                if (v is < 0 or > 1)
                {
                    throw f.Error(vn, c, $"must be in [0, 1], got {v.ToString(CultureInfo.InvariantCulture)}");
                }

                fixedValues[c] = v;
            }

            f.EnsureNoUnknownKeys();
        }

        // Components outside the simplex keep their fixed training values; together everything must sum to 1.
        var outside = SpecDefaults.Probabilities.Where(p => !components.Contains(p)).Sum(p => double.Parse(training.Hyperparameters[p], CultureInfo.InvariantCulture));
        var fixedSum = fixedValues.Values.Sum() + outside;
        if (fixedSum > 1 + 1e-9 || (fixedValues.Count == components.Length && Math.Abs(fixedSum - 1) > 1e-6))
        {
            throw d.Error($"fixed probabilities (and those outside the simplex) sum to {fixedSum.ToString("0.######", CultureInfo.InvariantCulture)}; they must leave the simplex summing to 1");
        }

        if (training.Positives == "reference" && components.Contains("p_min") && !(fixedValues.TryGetValue("p_min", out var pm) && pm == 0))
        {
            throw d.Error(node, "simplex", "positives: reference has no lowest-similarity positive: fix p_min at 0 (fixed: {p_min: 0}) or leave it out");
        }

        d.EnsureNoUnknownKeys();
        // Rescale: the free components share 1 - fixed - outside.
        return new SimplexDomain(key, components, fixedValues.ToImmutable()) { Budget = 1.0 - outside };
    }
}
