using AunceSearch.Contracts;
using AunceSearch.Coordination;
using AunceSearch.Model;
using AunceSearch.Search;

namespace AunceSearch.Spec.Tests;

public class SweepSpecLoaderTests
{
    private const string Valid = """
        name: t
        seed: 3
        dataset:
          root: data
          folds: [1, 2]
        training:
          epochs: 3
        search:
          trials: 4
          space:
            lr: {log_uniform: [1.0e-4, 1.0e-2]}
            temperature: {uniform: [0.1, 1.0]}
            positives: {simplex: [p_max, p_aug, p_mix, p_min], fixed: {p_min: 0}}
        """;

    private static SweepDefinition Parse(string yaml) => SweepSpecLoader.Parse(yaml, "spec.yaml", "/base");

    private static string Error(string yaml) => Assert.Throws<SpecException>(() => Parse(yaml)).Message;

    [Fact]
    public void A_valid_spec_parses_with_defaults_and_resolved_paths()
    {
        var spec = Parse(Valid);
        Assert.Equal("t", spec.Name);
        Assert.Equal(Path.GetFullPath("/base/data"), spec.Dataset.Root);
        Assert.Equal(new[] { 1, 2 }, spec.Folds);
        Assert.Equal(3, spec.Search.Scheduler.Create(spec.Training.Epochs, Direction.Maximize, "s").MaxSteps);
        Assert.Equal("asha (promotion)", spec.Search.Scheduler.Create(3, Direction.Maximize, "s").Name);
        Assert.Equal(new[] { "lr", "temperature", "p_max", "p_aug", "p_mix", "p_min" }, spec.Search.Space.ToSpace().ParameterNames.ToArray());
        var config = spec.Training.Resolve(new RandomSampler(spec.Seed).Sample(spec.Search.Space.ToSpace(), 0));
        Assert.Equal("1.2", config["lambda_min"]);
        Assert.Equal("0.8", config["lambda_maj"]);
    }

    [Fact]
    public void The_shipped_demo_spec_is_valid()
    {
        var spec = SweepSpecLoader.LoadFile(Path.Combine(AppContext.BaseDirectory, "examples", "demo.yaml"));
        Assert.True(spec.Search.Trials >= 8);
        Assert.True(spec.Folds.Length >= 2);
        Assert.InRange(spec.Training.Epochs, 1, 8);                      // the 5-minute budget on 2 cores
        Assert.IsType<AshaScheduling>(spec.Search.Scheduler);
        Assert.Equal("paper", spec.Training.Modes["positives"]);
        Assert.Equal("class", spec.Training.Modes["balance"]);
        var warm = Assert.Single(spec.Search.Enqueued);                  // the paper's configuration first
        Assert.Equal(("0.7", "0.4"), (warm["p_mix"], warm["lambda_maj"]));
    }

    [Theory]
    [InlineData("name: t\nseed: 1\n\tdataset: {root: x}\n", "spec.yaml:3:1: a tab in the indentation")]
    [InlineData("name: t\ndataset:\n  root: x\n\tfolds: [1]\n", "spec.yaml:4:1: a tab in the indentation")]
    [InlineData("name: t\ndataset:\n  root: x\n  \tfolds: [1]\n", "spec.yaml:4:3: a tab in the indentation")]
    public void A_tab_in_the_indentation_is_named_at_the_tab(string yaml, string expected)
    {
        Assert.StartsWith(expected, Error(yaml));
    }

    [Fact]
    public void Malformed_yaml_names_file_line_and_column()
    {
        var msg = Error("name: t\ndataset: {root: [unclosed\n");
        Assert.StartsWith("spec.yaml:", msg);
        Assert.Contains("malformed YAML", msg);
    }

    [Fact]
    public void An_unknown_key_names_its_line_and_path()
    {
        var msg = Error(Valid.Replace("  epochs: 3", "  epochs: 3\n  epohcs: 4", StringComparison.Ordinal));
        Assert.Equal("spec.yaml:8:3: training.epohcs: unknown key 'epohcs'", msg);
    }

    [Fact]
    public void An_unknown_hyperparameter_in_the_space_is_named()
    {
        var msg = Error(Valid.Replace("    lr: {", "    learning_rate: {", StringComparison.Ordinal));
        Assert.Contains("search.space.learning_rate", msg);
        Assert.Contains("unknown hyperparameter", msg);
    }

    [Fact]
    public void Fixed_probabilities_that_do_not_sum_to_one_are_rejected()
    {
        var msg = Error(Valid.Replace("  epochs: 3", "  epochs: 3\n  p_max: 0.5\n  p_mix: 0.6", StringComparison.Ordinal));
        Assert.Contains("training", msg);
        Assert.Contains("must sum to 1, got 1.3", msg);
    }

    [Fact]
    public void Simplex_fixed_components_leaving_no_room_are_rejected()
    {
        var msg = Error(Valid.Replace("fixed: {p_min: 0}", "fixed: {p_min: 0, p_max: 0.7, p_aug: 0.6}", StringComparison.Ordinal));
        Assert.Contains("search.space.positives", msg);
        Assert.Contains("sum to 1.3", msg);
    }

    [Fact]
    public void A_probability_outside_a_simplex_is_rejected()
    {
        var msg = Error(Valid.Replace("    lr: {", "    p_max: {uniform: [0, 1]}\n    lr: {", StringComparison.Ordinal));
        Assert.Contains("search.space.p_max", msg);
        Assert.Contains("simplex", msg);
    }

    [Theory]
    [InlineData("  lambda_min: -0.5", "training.lambda_min: must be >= 0, got -0.5")]
    [InlineData("  lambda_maj: -1", "training.lambda_maj: must be >= 0, got -1")]
    [InlineData("  temperature: -0.1", "training.temperature: must be > 0, got -0.1")]
    [InlineData("  temperature: 0", "training.temperature: must be > 0, got 0")]
    [InlineData("  lr: 0", "training.lr: must be > 0, got 0")]
    [InlineData("  grad_clip: -1", "training.grad_clip: must be >= 0 (the largest global gradient norm a step may take; 0: no clipping), got -1")]
    public void Negative_lambda_or_temperature_in_training_is_rejected_with_its_line(string line, string expected)
    {
        var msg = Error(Valid.Replace("  epochs: 3", "  epochs: 3\n" + line, StringComparison.Ordinal));
        Assert.Equal($"spec.yaml:8:{line.IndexOf(':', StringComparison.Ordinal) + 3}: {expected}", msg);
    }

    [Fact]
    public void Gradient_clipping_is_off_by_default_and_travels_with_each_trial()
    {
        Assert.Equal("0", Parse(Valid).Training.Hyperparameters["grad_clip"]);
        var spec = Parse(Valid.Replace("  epochs: 3", "  epochs: 3\n  grad_clip: 5", StringComparison.Ordinal));
        Assert.Equal("5", spec.Training.Resolve(new Dictionary<string, string>())["grad_clip"]);
    }

    [Fact]
    public void Max_attempts_defaults_to_two_and_travels_in_the_definition()
    {
        Assert.Equal(2, Parse(Valid).Training.MaxAttempts);
        Assert.Equal(5, Parse(Valid.Replace("  epochs: 3", "  epochs: 3\n  max_attempts: 5", StringComparison.Ordinal)).Training.MaxAttempts);
    }

    [Theory]
    [InlineData("  max_attempts: 0", "training.max_attempts")]
    [InlineData("  max_attempts: 101", "training.max_attempts")]
    [InlineData("  max_attempts: often", "training.max_attempts: expected an integer, got 'often'")]
    public void Max_attempts_out_of_range_or_not_a_number_is_rejected_naming_it(string line, string expected)
    {
        var msg = Error(Valid.Replace("  epochs: 3", "  epochs: 3\n" + line, StringComparison.Ordinal));
        Assert.StartsWith("spec.yaml:8:", msg);
        Assert.Contains(expected, msg);
    }

    [Fact]
    public void Checkpoint_retention_reads_best_k_3_by_default_all_and_best_k_with_its_k()
    {
        Assert.Equal(new CheckpointRetention(RetentionKind.BestK, 3), Parse(Valid).Retention);   // the default
        Assert.Equal(CheckpointRetention.All, Parse(Valid + "\ncheckpoints: {keep: all}").Retention);
        Assert.Equal(new CheckpointRetention(RetentionKind.BestK, 5), Parse(Valid + "\ncheckpoints: {keep: best-k, k: 5}").Retention);
        Assert.Equal(new CheckpointRetention(RetentionKind.BestK, 3), Parse(Valid + "\ncheckpoints: {keep: best-k}").Retention);
    }

    [Theory]
    [InlineData("checkpoints: {keep: newest}", "checkpoints.keep")]
    [InlineData("checkpoints: {keep: best-k, k: 0}", "checkpoints.k")]
    [InlineData("checkpoints: {keep: all, k: 2}", "only applies to keep: best-k")]
    [InlineData("checkpoints: {keep: best-k, count: 2}", "count")]
    public void Bad_checkpoint_retention_is_refused_naming_the_field(string line, string expected)
    {
        var msg = Error(Valid + "\n" + line);
        Assert.Contains(expected, msg);
        Assert.StartsWith("spec.yaml:", msg);
    }

    [Theory]
    [InlineData("    temperature: {uniform: [-0.5, 1.0]}", "temperature must be > 0")]
    [InlineData("    lambda_min: {uniform: [-1, 1.5]}", "lambda_min must be >= 0")]
    [InlineData("    lambda_maj: {fixed: -0.2}", "lambda_maj must be >= 0")]
    [InlineData("    temperature: {log_uniform: [0, 1.0]}", "a log scale needs low > 0")]
    [InlineData("    temperature: {uniform: [1.0, 0.5]}", "must be < high")]
    public void Invalid_search_ranges_are_rejected(string line, string expected)
    {
        var msg = Error(Valid.Replace("    temperature: {uniform: [0.1, 1.0]}", line, StringComparison.Ordinal));
        Assert.Contains(expected, msg);
        Assert.StartsWith("spec.yaml:12:", msg);
    }

    [Theory]
    [InlineData("name: t\nsearch: {}\n", "missing section 'dataset'")]
    [InlineData("name: t\ndataset: {root: d}\n", "missing section 'search'")]
    [InlineData("name: t\ndataset: {folds: [1]}\nsearch: {}\n", "dataset: missing required field 'root'")]
    [InlineData("name: t\ndataset: {root: d, folds: []}\nsearch: {}\n", "dataset.folds")]
    [InlineData("name: t\ndataset: {root: d}\nsearch: {trials: zero}\n", "search.trials: expected an integer, got 'zero'")]
    [InlineData("name: 'a b'\ndataset: {root: d}\nsearch: {}\n", "name: 'a b' must be non-empty")]
    [InlineData("- a\n- b\n", "the spec must be a mapping")]
    [InlineData("", "the spec is empty")]
    public void Structural_errors_are_named(string yaml, string expected)
    {
        Assert.Contains(expected, Error(yaml));
    }

    [Fact]
    public void A_missing_spec_file_is_named()
    {
        var e = Assert.Throws<SpecException>(() => SweepSpecLoader.LoadFile("/nonexistent/spec.yaml"));
        Assert.Contains("/nonexistent/spec.yaml: sweep spec file not found", e.Message);
    }

    [Fact]
    public void Synthetic_section_is_validated()
    {
        var msg = Error(Valid.Replace("  folds: [1, 2]", "  folds: [1, 4]\n  synthetic: {folds: 3}", StringComparison.Ordinal));
        Assert.Contains("fold 4 does not exist", msg);
        var noise = Error(Valid.Replace("  folds: [1, 2]", "  folds: [1, 2]\n  synthetic: {label_noise: 0.7}", StringComparison.Ordinal));
        Assert.Contains("dataset.synthetic.label_noise: must be in [0, 0.5)", noise);
    }

    [Theory]
    [InlineData("tpe", "TpeSampler")]
    [InlineData("random", "RandomSampler")]
    [InlineData("sobol", "SobolSampler")]
    [InlineData("grid", "GridSampler")]
    public void Samplers_are_chosen_by_name_and_tpe_is_the_default(string name, string type)
    {
        Assert.Equal(type, Parse(Valid.Replace("  trials: 4", $"  trials: 4\n  sampler: {name}", StringComparison.Ordinal)).Search.CreateSampler(1).GetType().Name);
        Assert.Equal("TpeSampler", Parse(Valid).Search.CreateSampler(1).GetType().Name);
        Assert.Contains("'annealing' is not one of", Error(Valid.Replace("  trials: 4", "  trials: 4\n  sampler: annealing", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_grid_smaller_than_the_trial_count_is_rejected()
    {
        var msg = Error(Valid.Replace("  trials: 4", "  trials: 400\n  sampler: grid\n  grid_points: 2", StringComparison.Ordinal));
        Assert.Contains("400 trials but the grid has only", msg);
    }

    [Fact]
    public void Warm_start_entries_are_parsed_and_validated()
    {
        var spec = Parse(Valid.Replace("  trials: 4", "  trials: 4\n  enqueue: [{lr: 0.005, temperature: 0.3}]\n  seed_results: [{config: {lr: 0.002}, value: 0.41}]", StringComparison.Ordinal));
        Assert.Equal("0.005", Assert.Single(spec.Search.Enqueued)["lr"]);
        Assert.Equal(0.41, Assert.Single(spec.Search.SeedResults).Value);
        Assert.Contains("search.enqueue.learning_rate: unknown hyperparameter",
            Error(Valid.Replace("  trials: 4", "  trials: 4\n  enqueue: [{learning_rate: 0.005}]", StringComparison.Ordinal)));
        Assert.Contains("give all of p_max, p_aug, p_mix, p_min",
            Error(Valid.Replace("  trials: 4", "  trials: 4\n  enqueue: [{p_max: 0.5}]", StringComparison.Ordinal)));
        Assert.Contains("search.enqueue.temperature: must be > 0",
            Error(Valid.Replace("  trials: 4", "  trials: 4\n  enqueue: [{temperature: -1}]", StringComparison.Ordinal)));
        Assert.Contains("missing 'value'", Error(Valid.Replace("  trials: 4", "  trials: 4\n  seed_results: [{config: {lr: 0.1}}]", StringComparison.Ordinal)));
    }

    [Fact]
    public void Conditional_parameters_are_read_and_validated()
    {
        var spec = Parse(Valid.Replace("    lr: {log_uniform: [1.0e-4, 1.0e-2]}", "    batch_size: {choice: [16, 64]}\n    lr: {log_uniform: [1.0e-4, 1.0e-2], when: {batch_size: [64]}}", StringComparison.Ordinal));
        var lr = spec.Search.Space.Single(d => d.Name == "lr");
        Assert.Equal("batch_size", lr.When!.Parameter);
        Assert.Equal("64", lr.When.Values.Single());
        var msg = Error(Valid.Replace("    lr: {log_uniform: [1.0e-4, 1.0e-2]}", "    lr: {log_uniform: [1.0e-4, 1.0e-2], when: {batch_size: [64]}}", StringComparison.Ordinal));
        Assert.Contains("conditional on 'batch_size', which must be defined before it", msg);
    }
}

public class DatasetLayoutSpecTests
{
    private static string Spec(string dataset, string training = "") => $"""
        name: t
        dataset:
        {dataset}
        training:
          epochs: 2
        {training}
        search:
          trials: 2
          space:
            lr: {"{"}log_uniform: [1.0e-4, 1.0e-2]{"}"}
        """;

    private static SweepDefinition Parse(string yaml) => SweepSpecLoader.Parse(yaml, "spec.yaml", "/base");

    [Fact]
    public void A_table_dataset_with_published_parts_and_the_loader_options_parses()
    {
        var spec = Parse(Spec("""
              format: table
              root: gft
              labels: lists/labels.csv
              images: aligned
              split: bp4d
              image_size: 256
              crop_size: 224
              skip_bad: true
              cache: stream
              workers: 6
              prefetch: 8
            """, """
              augment: {mode: basic, flip: 0.3, blur_sigma: [0.2, 1.5]}
            """));
        var d = spec.Dataset;
        Assert.Equal((DatasetFormat.Table, DatasetSplit.Bp4d, "lists/labels.csv", "aligned"), (d.Format, d.Split, d.Labels, d.Images));
        Assert.Equal((256, 224, true, DataCacheMode.Stream, 6, 8), (d.ImageSize, d.CropSize, d.SkipBad, d.Cache, d.Workers, d.Prefetch));
        Assert.Equal((AugmentMode.Basic, 0.3, 0.2, 1.5), (spec.Training.Augment.Mode, spec.Training.Augment.Flip, spec.Training.Augment.BlurSigmaMin, spec.Training.Augment.BlurSigmaMax));
        Assert.Equal(0.8, spec.Training.Augment.Jitter);   // defaults are the reference's image_train_enhance
    }

    [Fact]
    public void Custom_parts_and_fold_lists_parse()
    {
        var parts = Parse(Spec("""
              format: table
              root: d
              split: parts
              parts: [[S1, S2], [S3], [S4, S5]]
            """));
        Assert.Equal(3, parts.Dataset.Parts!.Length);
        Assert.Equal(["S3"], parts.Dataset.Parts[1]);
        var lists = Parse(Spec("""
              format: table
              root: d
              split: lists
              fold_lists: "folds/{split}_fold{fold}.txt"
              folds: [1]
            """));
        Assert.Equal("folds/{split}_fold{fold}.txt", lists.Dataset.FoldLists);
    }

    [Theory]
    [InlineData("  format: csv\n  root: d", "dataset.format")]
    [InlineData("  root: d\n  split: bp4d", "dataset.split: the aunce-list layout's folds are its list files")]
    [InlineData("  format: table\n  root: d\n  split: parts", "split: parts needs 'parts'")]
    [InlineData("  format: table\n  root: d\n  split: parts\n  parts: [[A, B], [B]]", "subject B is in more than one part")]
    [InlineData("  format: table\n  root: d\n  split: subjects\n  parts: [[A], [B]]", "dataset.parts: only used with split: parts")]
    [InlineData("  format: table\n  root: d\n  split: disfa\n  folds: [1, 4]", "fold 4 does not exist: split disfa has 3 folds")]
    [InlineData("  format: table\n  root: d\n  split: lists", "needs 'fold_lists'")]
    [InlineData("  root: d\n  fold_lists: x{fold}", "dataset.fold_lists: only used with format: table")]
    [InlineData("  root: d\n  labels: l.csv", "only used with format: table")]
    [InlineData("  root: d\n  image_size: 64\n  crop_size: 80", "dataset.crop_size: 80 is larger than image_size 64")]
    [InlineData("  root: d\n  cache: disk", "dataset.cache")]
    [InlineData("  format: table\n  root: d\n  synthetic: {subjects: 4}", "synthetic dataset is generated in the aunce-list layout")]
    public void Bad_dataset_layouts_name_the_key(string dataset, string expected)
    {
        var e = Assert.Throws<SpecException>(() => Parse(Spec(dataset)));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("  augment: {blur_kernel: 4}", "training.augment.blur_kernel: must be 0 (no blur) or odd, got 4")]
    [InlineData("  augment: {blur_sigma: [2, 1]}", "training.augment.blur_sigma")]
    [InlineData("  augment: {hue: 0.7}", "training.augment.hue: must be in [0, 0.5], got 0.7")]
    [InlineData("  augment: {flip: 1.5}", "training.augment.flip")]
    [InlineData("  augment: {mode: strong}", "training.augment.mode")]
    [InlineData("  augment: {jitterr: 0.5}", "jitterr")]
    public void Bad_augment_options_name_the_key(string training, string expected)
    {
        var e = Assert.Throws<SpecException>(() => Parse(Spec("  root: d", training)));
        Assert.Contains(expected, e.Message);
    }
}

public class PartialFoldSpecTests
{
    private static string Spec(string scheduler) => $$"""
        name: t
        dataset: {root: d, folds: [1, 2, 3]}
        training: {epochs: 4}
        search:
          trials: 4
          scheduler: {{scheduler}}
          space:
            lr: {log_uniform: [1.0e-4, 1.0e-2]}
        """;

    [Theory]
    [InlineData("{kind: asha, variant: stopping, partial_folds: true}")]
    [InlineData("{kind: median, partial_folds: true}")]
    [InlineData("{kind: hyperband, partial_folds: true}")]
    public void Partial_fold_pruning_parses_for_schedulers_that_stop_trials(string scheduler)
    {
        Assert.True(SweepSpecLoader.Parse(Spec(scheduler), "spec.yaml", "/base").Search.PartialFolds);
    }

    [Theory]
    [InlineData("{kind: asha, partial_folds: true}", "asha (promotion) does not")]
    [InlineData("{kind: hyperband_sync, partial_folds: true}", "hyperband_sync does not")]
    [InlineData("{kind: none, partial_folds: true}", "none does not")]
    [InlineData("{kind: median, partial_folds: maybe}", "search.scheduler.partial_folds")]
    public void Partial_fold_pruning_with_a_scheduler_that_never_stops_is_an_error(string scheduler, string expected)
    {
        var e = Assert.Throws<SpecException>(() => SweepSpecLoader.Parse(Spec(scheduler), "spec.yaml", "/base"));
        Assert.Contains(expected, e.Message);
    }
}

public class PbtSpecTests
{
    private static string Spec(string scheduler) => $$"""
        name: t
        dataset: {root: d, folds: [1, 2]}
        training: {epochs: 6}
        search:
          trials: 4
          max_concurrent_trials: 2
          scheduler: {{scheduler}}
          space:
            lr: {log_uniform: [1.0e-4, 1.0e-2]}
        """;

    [Fact]
    public void Pbt_parses_with_rays_defaults_and_builds_its_scheduler()
    {
        var spec = SweepSpecLoader.Parse(Spec("{kind: pbt, perturbation_interval: 2, perturbation_factors: [1.5, 0.5]}"), "spec.yaml", "/base");
        var o = Assert.IsType<PbtScheduling>(spec.Search.Scheduler);
        Assert.Equal((2, 0, 0.25, 0.25), (o.PerturbationInterval, o.BurnInPeriod, o.QuantileFraction, o.ResampleProbability));
        Assert.Equal([1.5, 0.5], o.PerturbationFactors.ToArray());
        var scheduler = spec.Search.Scheduler.Create(6, Direction.Maximize, "s", spec.Search.Space.ToSpace(), 1);
        Assert.Equal("pbt", scheduler.Name);
    }

    [Theory]
    [InlineData("{kind: pbt, perturbation_interval: 6}", "perturbation_interval (6) must be < training.epochs (6)")]
    [InlineData("{kind: pbt, quantile_fraction: 0.7}", "quantile_fraction must be in (0, 0.5]")]
    [InlineData("{kind: pbt, perturbation_factors: [1.2, -1]}", "perturbation_factors")]
    [InlineData("{kind: asha, perturbation_interval: 2}", "search.scheduler.perturbation_interval: only used with kind: pbt")]
    [InlineData("{kind: pbt, partial_folds: true}", "pbt does not")]
    public void Bad_pbt_settings_name_the_key(string scheduler, string expected)
    {
        var e = Assert.Throws<SpecException>(() => SweepSpecLoader.Parse(Spec(scheduler), "spec.yaml", "/base"));
        Assert.Contains(expected, e.Message);
    }
}

public class ObjectivesSpecTests
{
    private static string Spec(string scheduler, string objectives) => $$"""
        name: t
        dataset: {root: d, folds: [1, 2]}
        training: {epochs: 4}
        search:
          trials: 4
          scheduler: {{scheduler}}
          objectives: {{objectives}}
          space:
            lr: {log_uniform: [1.0e-4, 1.0e-2]}
        """;

    [Fact]
    public void Two_objectives_with_stopping_asha_build_multi_objective_asha()
    {
        var spec = SweepSpecLoader.Parse(Spec("{kind: asha, variant: stopping}", "{f1: max, seconds: min}"), "spec.yaml", "/base");
        Assert.Equal([new ObjectiveDefinition(ObjectiveMetric.F1, Direction.Maximize), new ObjectiveDefinition(ObjectiveMetric.Seconds, Direction.Minimize)], Assert.IsType<AshaScheduling>(spec.Search.Scheduler).Objectives);
        Assert.StartsWith("multi-objective asha", spec.Search.Scheduler.Create(4, Direction.Maximize, "s").Name);
    }

    [Theory]
    [InlineData("{kind: asha, variant: stopping}", "{f1: max, size: min}", "search.objectives.size: unknown objective")]
    [InlineData("{kind: asha, variant: stopping}", "{f1: max}", "at least two objectives")]
    [InlineData("{kind: asha}", "{f1: max, seconds: min}", "set scheduler kind: asha, variant: stopping (not asha promotion)")]
    [InlineData("{kind: median}", "{f1: max, seconds: min}", "(not median)")]
    [InlineData("{kind: asha, variant: stopping}", "{f1: up, seconds: min}", "search.objectives.f1")]
    [InlineData("{kind: asha, variant: stopping, partial_folds: true}", "{f1: max, loss: min}", "partial_folds is single-objective")]
    public void Bad_objectives_name_the_problem(string scheduler, string objectives, string expected)
    {
        var e = Assert.Throws<SpecException>(() => SweepSpecLoader.Parse(Spec(scheduler, objectives), "spec.yaml", "/base"));
        Assert.Contains(expected, e.Message);
    }
}

/// <summary>YAML that is not one plain document: refused with a position, never read partly or overflowing the stack.</summary>
public class YamlShapeTests
{
    private const string Valid = "name: t\ndataset:\n  root: data\n  folds: [1, 2]\nsearch:\n  trials: 4\n  space:\n    lr: {log_uniform: [1.0e-4, 1.0e-2]}\n";

    private static string Error(string yaml) => Assert.Throws<SpecException>(() => SweepSpecLoader.Parse(yaml, "spec.yaml", "/base")).Message;

    [Fact]
    public void A_multi_document_file_is_refused_naming_the_second_document()
    {
        var message = Error(Valid + "---\nname: other\n");
        Assert.StartsWith("spec.yaml:9:1: a second YAML document", message);
        Assert.Contains("exactly one sweep", message);
        SweepSpecLoader.Parse("---\n" + Valid + "...\n", "spec.yaml", "/base");   // one explicit document is fine
    }

    [Theory]
    [InlineData(100_000, "[")]
    [InlineData(5_000, "{a: ")]
    public void Pathological_nesting_gets_a_clean_error_not_a_stack_overflow(int depth, string open)
    {
        var yaml = "name: t\nx: " + string.Concat(Enumerable.Repeat(open, depth));
        var message = Error(yaml);
        Assert.Matches(@"^spec\.yaml:\d+:\d+: (nesting deeper than 32 levels|malformed YAML)", message);
    }

    [Fact]
    public void Nesting_within_the_limit_reaches_the_spec_reader()
    {
        var message = Error(Valid + "extra: " + string.Concat(Enumerable.Repeat("[", 20)) + string.Concat(Enumerable.Repeat("]", 20)) + "\n");
        Assert.Contains("extra", message);   // parsed, then reported as an unknown key
    }
}
