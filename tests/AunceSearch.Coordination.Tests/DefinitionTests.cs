using AunceSearch.Contracts;
using AunceSearch.Model;
using AunceSearch.Spec;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace AunceSearch.Coordination.Tests;

/// <summary>The typed sweep definition: what the client resolves a spec into, what grains receive and what the journal keeps.</summary>
public sealed class DefinitionTests
{
    private static string Spec(string scheduler, string search = "") => $$$"""
        name: definition
        seed: 5
        dataset: {root: data, folds: [1, 2, 3], image_size: 32, split: subjects, split_folds: 3, format: table, labels: labels.csv}
        model: {encoder: resnet18, width: 16, feature_dim: 24}
        training: {epochs: 6, device: cpu, positives: paper, augment: {mode: basic, flip: 0.25}}
        search:
          trials: 7
          max_concurrent_trials: 2
          metric: accuracy
          scheduler: {{{scheduler}}}
          space:
            lr: {log_uniform: [1.0e-4, 1.0e-2]}
            batch_size: {choice: [16, 32]}
            temperature: {uniform: [0.05, 0.5], when: {batch_size: [32]}}
            probabilities: {simplex: [p_max, p_aug, p_mix, p_min], fixed: {p_min: 0.1}}
        {{{search}}}
        """;

    public static TheoryData<string, string, Type> Schedulers => new()
    {
        { "{kind: asha, variant: promotion, grace_period: 1, reduction_factor: 3}", "asha (promotion)", typeof(AshaScheduling) },
        { "{kind: asha, variant: stopping, grace_period: 2, small_rung_policy: optuna}", "asha (stopping)", typeof(AshaScheduling) },
        { "{kind: successive_halving, min_resource: 1, reduction_factor: 2}", "successive_halving", typeof(SuccessiveHalvingScheduling) },
        { "{kind: hyperband, min_resource: 1, reduction_factor: 2}", "hyperband", typeof(HyperbandScheduling) },
        { "{kind: hyperband_sync, min_resource: 1, reduction_factor: 2}", "hyperband (synchronous)", typeof(SynchronousHyperbandScheduling) },
        { "{kind: median, n_warmup_steps: 1}", "median", typeof(MedianScheduling) },
        { "{kind: percentile, percentile: 40}", "percentile", typeof(PercentileScheduling) },
        { "{kind: median_stopping, grace_period: 1, min_samples: 2}", "median_stopping", typeof(MedianStoppingScheduling) },
        { "{kind: pbt, perturbation_interval: 2, perturbation_factors: [1.5, 0.5]}", "pbt", typeof(PbtScheduling) },
        { "{kind: none}", "none", typeof(FifoScheduling) },
    };

    private static SweepDefinition Resolve(string yaml) => SweepSpecLoader.Parse(yaml, "spec.yaml", "/base");

    [Theory]
    [MemberData(nameof(Schedulers))]
    public void Every_scheduler_resolves_to_its_own_record_and_survives_the_wire_and_the_journal(string scheduler, string name, Type record)
    {
        var definition = Resolve(Spec(scheduler));
        Assert.IsType(record, definition.Search.Scheduler);
        definition.Validate();
        Assert.StartsWith(name, definition.CreateScheduler("s", definition.Search.Space.ToSpace()).Name, StringComparison.Ordinal);

        // Orleans' codec (what a grain call carries) and the journal's JSON both give back an equal definition.
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        var wired = serializer.Deserialize<SweepDefinition>(serializer.SerializeToArray(definition))!;
        Assert.Null(DefinitionDiff.First(definition, wired));
        var journaled = Assert.IsType<SweepStarted>(SweepJournalCodec.Decode(SweepJournalCodec.Encode(new SweepStarted(definition)), "test")).Definition;
        Assert.Null(DefinitionDiff.First(definition, journaled));
    }

    [Fact]
    public void A_spec_resolves_to_typed_values_with_absolute_paths_and_no_yaml()
    {
        var d = Resolve(Spec("{kind: none}", "  sampler: tpe\n  tpe: {n_startup_trials: 3}"));
        Assert.Equal(SweepDefinition.CurrentVersion, d.Version);
        Assert.Equal(Path.GetFullPath("/base/data"), d.Dataset.Root);
        Assert.Equal("labels.csv", d.Dataset.Labels);   // relative to the (absolute) root
        Assert.Equal((DatasetFormat.Table, DatasetSplit.Subjects, 3), (d.Dataset.Format, d.Dataset.Split, d.Dataset.SplitFolds));
        Assert.Equal([1, 2, 3], d.Folds);
        Assert.Equal(("resnet18", 16, 24), (d.Model.Encoder, d.Model.Width, d.Model.FeatureDim));
        Assert.Equal((6, TrainingDevice.Cpu, AugmentMode.Basic, 0.25), (d.Training.Epochs, d.Training.Device, d.Training.Augment.Mode, d.Training.Augment.Flip));
        Assert.Equal((SweepMetric.Accuracy, Direction.Maximize, 7, 2), (d.Search.Metric, d.Search.Direction, d.Search.Trials, d.Search.MaxConcurrentTrials));
        Assert.Equal(3, Assert.IsType<TpeSampling>(d.Search.Sampler).StartupTrials);

        var space = d.Search.Space;
        Assert.True(Assert.IsType<FloatParameter>(space.Single(p => p.Name == "lr")).Log);
        Assert.Equal(["16", "32"], Assert.IsType<CategoricalParameter>(space.Single(p => p.Name == "batch_size")).Choices);
        Assert.Equal(new ParameterCondition("batch_size", ["32"]).Parameter, space.Single(p => p.Name == "temperature").When?.Parameter);
        var simplex = Assert.IsType<SimplexParameter>(space.Single(p => p.Name == "probabilities"));
        Assert.Equal(["p_max", "p_aug", "p_mix", "p_min"], simplex.Components);
        Assert.Equal(0.1, simplex.Fixed["p_min"]);
        Assert.Equal("0.8", d.Training.Hyperparameters["lambda_maj"]);   // fixed values carried, defaults filled in
    }

    [Fact]
    public void A_journal_written_before_the_settings_records_moved_to_the_vocabulary_reads_into_them_unchanged()
    {
        // tests/fixtures/journal/sweep-started-v1.json: a SweepStarted entry written by 80680dd, when the dataset, model and
        // augmentation travelled as Contracts' DatasetRef/ModelRef/AugmentRef. The vocabulary's records keep their JSON names.
        var entry = File.ReadAllText(AunceSearch.Tests.TestFixtures.Path("journal/sweep-started-v1.json"));
        var d = Assert.IsType<SweepStarted>(SweepJournalCodec.Decode(entry, "sweep-started-v1.json")).Definition;
        d.Validate();
        Assert.Equal(("/base/data", "SYN", 32, 28), (d.Dataset.Root, d.Dataset.ListName, d.Dataset.ImageSize, d.Dataset.CropSize));
        Assert.Equal((DatasetFormat.Table, DatasetSplit.Parts, DataCacheMode.Stream), (d.Dataset.Format, d.Dataset.Split, d.Dataset.Cache));
        Assert.Equal(("labels.csv", "img", true, 3, 6), (d.Dataset.Labels, d.Dataset.Images, d.Dataset.SkipBad, d.Dataset.Workers, d.Dataset.Prefetch));
        Assert.Equal(["AU1", "AU2"], d.Dataset.AuNames!);
        Assert.Equal(["S3"], d.Dataset.Parts![1]);
        Assert.Null(d.Dataset.Synthetic);
        Assert.Equal(("swin-t", 24, 2, 48, 4, 0.1), (d.Model.Encoder, d.Model.FeatureDim, d.Model.Neighbors, d.Model.EmbedDim, d.Model.Window, d.Model.DropPath));
        Assert.Equal([2, 4, 8, 16], d.Model.Heads!);
        Assert.Equal(224, d.Model.InputSize);   // not in the old record: the trainer sets it from the crop
        var a = d.Training.Augment;
        Assert.Equal((AugmentMode.Basic, 0.25, 0.5, 0.1, 5, 0.2, 1.5), (a.Mode, a.Flip, a.Jitter, a.Grayscale, a.BlurKernel, a.BlurSigmaMin, a.BlurSigmaMax));
        Assert.Equal((TrainingDevice.Cpu, 3, 7, 0.02), (d.Training.Device, d.Training.MaxAttempts, d.Training.ProbeSteps, d.Training.ProbeLr));

        // The same YAML today gives the same definition (what a resumed sweep compares its spec with).
        var yaml = """
            name: journal-v1
            seed: 5
            dataset: {root: data, folds: [1, 2], image_size: 32, crop_size: 28, split: parts, parts: [[S1, S2], [S3]], format: table, labels: labels.csv, images: img, cache: stream, workers: 3, prefetch: 6, skip_bad: true, aus: [AU1, AU2]}
            model: {encoder: swin-t, feature_dim: 24, neighbors: 2, embed_dim: 48, depths: [2, 2, 2, 2], heads: [2, 4, 8, 16], window: 4, drop_path: 0.1}
            training: {epochs: 6, device: cpu, positives: paper, max_attempts: 3, probe_steps: 7, probe_lr: 0.02, augment: {mode: basic, flip: 0.25, jitter: 0.5, grayscale: 0.1, blur_kernel: 5, blur_sigma: [0.2, 1.5]}}
            checkpoints: {keep: best-k, k: 2}
            search:
              trials: 7
              max_concurrent_trials: 2
              metric: accuracy
              scheduler: {kind: asha, variant: stopping, grace_period: 1, reduction_factor: 3}
              space:
                lr: {log_uniform: [1.0e-4, 1.0e-2]}
                batch_size: {choice: [16, 32]}
                probabilities: {simplex: [p_max, p_aug, p_mix, p_min], fixed: {p_min: 0.1}}
            """;
        Assert.Null(DefinitionDiff.First(d, Resolve(yaml)));
    }

    [Fact]
    public void A_trial_assignment_carries_the_settings_records_through_Orleans_as_they_are()
    {
        var d = Resolve(Spec("{kind: none}")) is var r ? r with { Model = r.Model with { Depths = [2, 2, 6, 2], DropPath = 0.2 } } : null!;
        var assignment = new TrialAssignment("s", 1, new() { ["lr"] = "0.01" }, d.Folds, 3, d.Dataset, d.Model, d.Training, 7, SweepMetric.F1);
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        var wired = serializer.Deserialize<FoldAssignment>(serializer.SerializeToArray(new FoldAssignment(assignment, 2)))!.Trial;
        Assert.Equal(d.Dataset with { Parts = null }, wired.Dataset with { Parts = null });
        Assert.Equal(d.Model with { Depths = null }, wired.Model with { Depths = null });
        Assert.Equal([2, 2, 6, 2], wired.Model.Depths!);
        Assert.Equal(d.Training.Augment, wired.Training.Augment);
        Assert.Equal(d.Training.Device, wired.Training.Device);
        var copier = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Orleans.Serialization.DeepCopier>();
        Assert.Equal(d.Training.Augment, copier.Copy(assignment).Training.Augment);
    }

    [Fact]
    public void The_first_difference_between_two_definitions_is_named_with_both_values()
    {
        var d = Resolve(Spec("{kind: asha, reduction_factor: 2}"));
        Assert.Null(DefinitionDiff.First(d, Resolve(Spec("{kind: asha, reduction_factor: 2}"))));
        Assert.Equal("Search.Scheduler.ReductionFactor: 2 → 3", DefinitionDiff.First(d, Resolve(Spec("{kind: asha, reduction_factor: 3}"))));
        Assert.Equal("Search.Scheduler.$kind: \"asha\" → \"none\"", DefinitionDiff.First(d, Resolve(Spec("{kind: none}"))));
        Assert.Equal("Folds[2]: 3 → 4", DefinitionDiff.First(d, d with { Folds = [1, 2, 4] }));
    }

    [Fact]
    public void Contracts_depend_on_no_AunceSearch_project_but_the_vocabulary_and_the_coordinator_on_no_Orleans_runtime_or_spec()
    {
        static string[] References(Type t) => [.. t.Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "")];
        var contracts = References(typeof(SweepDefinition));
        Assert.DoesNotContain(contracts, n => n.StartsWith("AunceSearch", StringComparison.Ordinal) && n != "AunceSearch.Model");
        Assert.Contains("AunceSearch.Model", contracts);
        var coordinator = References(typeof(SweepCoordinator));
        Assert.DoesNotContain("AunceSearch.Spec", coordinator);
        Assert.DoesNotContain(coordinator, n => n.StartsWith("Orleans.Runtime", StringComparison.Ordinal) || n.StartsWith("TorchSharp", StringComparison.Ordinal));
        Assert.Contains("AunceSearch.Search", coordinator);   // a reference that is there is found: the check can fail
    }
}
