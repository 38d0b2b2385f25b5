using AunceSearch.Contracts;
using AunceSearch.Model;
using AunceSearch.Spec;
using AunceSearch.Training.Data;
using AunceSearch.Training.Evaluation;

namespace AunceSearch.Cli.Tests;

public sealed class BaselineAndAblationTests
{
    [Fact]
    public void Baselines_are_the_f1_of_all_active_and_the_accuracy_of_the_majority_class()
    {
        // AU0 active in 1 of 4 rows: all-active F1 = 2·0.25/1.25 = 0.4, majority (inactive) accuracy 0.75.
        // AU1 active in 3 of 4: F1 = 2·0.75/1.75, majority (active) accuracy 0.75. AU2 never active: F1 0, accuracy 1.
        var labels = new float[,] { { 1, 1, 0 }, { 0, 1, 0 }, { 0, 1, 0 }, { 0, 0, 0 } };
        var b = AuBaselines.Compute(["AU0", "AU1", "AU2"], labels);
        Assert.Equal(0.4, b.AllActiveF1[0], 9);
        Assert.Equal(1.5 / 1.75, b.AllActiveF1[1], 9);
        Assert.Equal(0, b.AllActiveF1[2], 9);
        Assert.Equal([0.75, 0.75, 1.0], b.MajorityAccuracy);
    }

    [Fact]
    public void The_verdict_says_whether_the_model_beats_the_all_active_baseline()
    {
        FoldAuResult Fold(double f1) => new(["AU1", "AU2"], [f1, f1], [0.8, 0.8], [0.5, 0.5], [0.7, 0.7]);
        Assert.StartsWith("mean F1 62.0 beats the all-active baseline 50.0 by +12.0 points (2 of 2 AUs above it)", AuTable.Verdict([Fold(0.62)]));
        var loses = AuTable.Verdict([Fold(0.45), Fold(0.40)]);
        Assert.StartsWith("warning: mean F1 42.5 does not beat the all-active baseline 50.0", loses);
        Assert.Contains("not a result", loses);
    }

    [Fact]
    public void Class_balanced_cross_entropy_weights_each_class_by_its_inverse_frequency()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        // One AU, two rows: an active row with P(active) 0.8 and an inactive row with P(active) 0.4; rate r = 0.25.
        var probs = TorchSharp.torch.tensor(new float[] { 0.8f, 0.2f, 0.4f, 0.6f }, [2, 2, 1]);
        var labels = TorchSharp.torch.tensor(new float[] { 1, 0 }, [2, 1]);
        var (pos, neg) = AunceSearch.Training.Loss.WeightedCrossEntropy.ClassBalancedWeights([0.25], TorchSharp.torch.CPU);
        var loss = AunceSearch.Training.Loss.WeightedCrossEntropy.Compute(probs, labels, pos, neg).item<float>();
        var expected = -((2.0 * Math.Log(0.8)) + (2.0 / 3.0 * Math.Log(0.6))) / 2;
        Assert.Equal(expected, loss, 5);
    }

    [Theory]
    [InlineData(new[] { 0.5, 0.7 }, 0.6, 12.706 * 0.1)]          // sd = √0.02, half-width = t(1) · sd / √2
    [InlineData(new[] { 0.4, 0.5, 0.6 }, 0.5, 4.303 * 0.1 / 1.7320508075688772)]
    public void Confidence_intervals_use_students_t(double[] values, double mean, double half)
    {
        var (m, h) = AblationCommand.MeanAndInterval(values);
        Assert.Equal(mean, m, 9);
        Assert.Equal(half, h, 6);
        Assert.Equal(1.960, AblationCommand.StudentT975(500));
    }

    [Fact]
    public void Every_ablation_variant_is_a_valid_spec_with_its_training_values()
    {
        const string yaml = """
            name: mine
            seed: 3
            dataset: {root: /data/x, folds: [1, 2]}
            model: {encoder: small-cnn}
            training: {epochs: 2, lr: 0.002, temperature: 0.1}
            search: {trials: 50, space: {lr: {log_uniform: [1.0e-4, 1.0e-2]}}}
            """;
        var spec = SweepSpecLoader.Parse(yaml, "mine.yaml", "/");
        Assert.Equal(9, AblationCommand.Variants.Count);
        foreach (var v in AblationCommand.Variants)
        {
            var parsed = SweepSpecLoader.Parse(AblationCommand.VariantYaml(yaml, spec, v, seeds: 4), "mine.yaml", "/");
            Assert.Equal(4, parsed.Search.Trials);
            Assert.IsType<FifoScheduling>(parsed.Search.Scheduler);
            Assert.Equal("0.1", parsed.Training.Hyperparameters["temperature"]);   // the user's values stay
            Assert.Equal("0.002", parsed.Training.Hyperparameters["lr"]);
            Assert.Equal("paper", parsed.Training.Modes["positives"]);
            foreach (var (key, value) in v.Training.Where(kv => TrainingVocabulary.Hyperparameters.ContainsKey(kv.Key)))
            {
                Assert.Equal(double.Parse(value, System.Globalization.CultureInfo.InvariantCulture),
                    double.Parse(parsed.Training.Hyperparameters[key], System.Globalization.CultureInfo.InvariantCulture), 9);
            }
        }

        var bl = AblationCommand.Variants.Single(v => v.Key == "bl");
        Assert.Equal(("1", "0", "1", "1", "off"), (bl.Training["p_max"], bl.Training["p_mix"], bl.Training["lambda_min"], bl.Training["lambda_maj"], bl.Training["au_weight"]));
        Assert.Equal("wce", AblationCommand.Variants.Single(v => v.Key == "wce").Training["objective"]);
    }

    [Fact]
    public async Task Ablation_runs_table_vi_through_the_sweep_engine_and_writes_tables_json_and_a_plot()
    {
        var dir = CliHarness.TempDirectory();
        var data = Path.Combine(dir, "data");
        SyntheticAuFaces.Generate(data, new SyntheticOptions { Subjects = 4, ImagesPerSubject = 8, ImageSize = 32, Folds = 2, OccurrenceRates = [0.3, 0.6] });
        var spec = Path.Combine(dir, "ablate.yaml");
        File.WriteAllText(spec, $$"""
            name: abl
            dataset: {root: {{data}}, folds: [1], image_size: 32}
            model: {encoder: small-cnn, width: 4, feature_dim: 8}
            training: {epochs: 1, batch_size: 8, probe_steps: 5, device: cpu}
            search: {trials: 1}
            """);
        var output = Path.Combine(dir, "out");
        var (code, stdout, stderr) = await CliHarness.Run("ablation", spec, "--seeds", "2", "--tables", "VI", "--out", output, "--journal", Path.Combine(dir, "journal"));
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("Table VI: AUNCE against the WCE-trained network", stdout);
        Assert.Matches(@"WCE-trained network\s+\d+\.\d ±\s+\d+\.\d\s+63\.6 \(MEGraph\)", stdout);
        Assert.Contains("all-active F1", stdout);
        Assert.DoesNotContain("Table VII", stdout);
        Assert.True(File.Exists(Path.Combine(output, "tables.txt")));
        Assert.Contains("\"ci95_half_width\"", File.ReadAllText(Path.Combine(output, "results.json")));
        var png = File.ReadAllBytes(Path.Combine(output, "ablation.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Theory]
    [InlineData("--seeds", "1", "--seeds must be an integer >= 2")]
    [InlineData("--tables", "IX", "--tables takes a comma-separated list")]
    public async Task Bad_ablation_options_are_named(string option, string value, string message)
    {
        var (code, _, stderr) = await CliHarness.Run("ablation", "whatever.yaml", option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
    }
}
