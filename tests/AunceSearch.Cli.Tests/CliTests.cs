using AunceSearch.Model;
using AunceSearch.Training.Data;

namespace AunceSearch.Cli.Tests;

public sealed class CliTests
{
    private static readonly Lazy<string> Dataset = new(CliHarness.SyntheticDataset);

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => CliHarness.Run(args);

    private static string SpecFile(string root, string extraTraining = "", string trials = "3")
    {
        var dir = CliHarness.TempDirectory();
        var file = Path.Combine(dir, "spec.yaml");
        File.WriteAllText(file, $"""
            name: cli
            seed: 1
            dataset:
              root: {root}
              folds: [1, 2]
              image_size: 24
            model: {"{width: 4, feature_dim: 8}"}
            training:
              epochs: 2
              batch_size: 16
              probe_steps: 5
              device: cpu
            {extraTraining}
            search:
              trials: {trials}
              scheduler: {"{kind: asha, grace_period: 1, reduction_factor: 2}"}
              space:
                lr: {"{log_uniform: [1.0e-3, 1.0e-2]}"}
            """);
        return file;
    }

    [Fact]
    public async Task Help_exits_zero_and_an_unknown_command_exits_two_with_usage()
    {
        Assert.Equal(0, (await Run("--help")).Code);
        var (code, _, err) = await Run("frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("error: Unrecognized command or argument 'frobnicate'", err);
        Assert.Contains("run 'aunce --help' for usage", err);
    }

    [Fact]
    public async Task Validate_accepts_a_good_spec_and_checks_the_dataset()
    {
        var (code, output, err) = await Run("sweep", "validate", SpecFile(Dataset.Value));
        Assert.True(code == 0, err);
        Assert.Contains("ok", output);
        Assert.Contains("folds 1,2 readable", output);
    }

    [Fact]
    public async Task A_malformed_spec_exits_two_naming_file_and_line()
    {
        var file = Path.Combine(CliHarness.TempDirectory(), "broken.yaml");
        File.WriteAllText(file, "name: x\nsearch: {trials: [1,\n");
        var (code, _, err) = await Run("sweep", "validate", file);
        Assert.Equal(2, code);
        Assert.Contains($"error: {file}:", err);
        Assert.Contains("malformed YAML", err);
    }

    [Theory]
    [InlineData("  epochz: 3", "training.epochz: unknown key")]
    [InlineData("  lambda_min: -1", "training.lambda_min: must be >= 0")]
    [InlineData("  temperature: -2", "training.temperature: must be > 0")]
    [InlineData("  p_max: 0.9", "must sum to 1")]
    public async Task Invalid_training_values_exit_two_with_field_and_line(string line, string expected)
    {
        var (code, _, err) = await Run("sweep", "validate", SpecFile(Dataset.Value, line));
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
        Assert.Matches(@"spec\.yaml:\d+:\d+: ", err);
    }

    [Fact]
    public async Task A_missing_spec_file_exits_two()
    {
        var (code, _, err) = await Run("sweep", "run", "/no/such/spec.yaml");
        Assert.Equal(2, code);
        Assert.Contains("/no/such/spec.yaml: sweep spec file not found", err);
    }

    [Fact]
    public async Task A_missing_dataset_path_exits_two_naming_it()
    {
        var missing = Path.Combine(CliHarness.TempDirectory(), "nowhere");
        var (code, _, err) = await Run("sweep", "validate", SpecFile(missing));
        Assert.Equal(2, code);
        Assert.Contains($"dataset.root: {missing} does not exist", err);
    }

    [Fact]
    public async Task A_label_file_with_the_wrong_column_count_exits_two_with_file_and_line()
    {
        var root = Path.Combine(CliHarness.TempDirectory(), "data");
        SyntheticAuFaces.Generate(root, new SyntheticOptions { Subjects = 4, ImagesPerSubject = 3, ImageSize = 32, Folds = 2, OccurrenceRates = [0.3, 0.6, 0.4] });
        var labels = Path.Combine(root, "list", "SYN_train_label_fold1.txt");
        var lines = File.ReadAllLines(labels);
        lines[2] = "0 1";
        File.WriteAllLines(labels, lines);
        var (code, _, err) = await Run("sweep", "validate", SpecFile(root));
        Assert.Equal(2, code);
        Assert.Contains("SYN_train_label_fold1.txt:3: expected 3 label columns (AU1 AU2 AU4), found 2", err);
    }

    [Fact]
    public async Task Synthesizing_into_a_non_empty_directory_exits_two_and_keeps_the_data()
    {
        var dir = CliHarness.TempDirectory();
        File.WriteAllText(Path.Combine(dir, "precious.txt"), "keep");
        var (code, _, err) = await Run("data", "synth", dir, "--subjects", "3");
        Assert.Equal(2, code);
        Assert.Contains("non-empty", err);
        Assert.Equal("keep", File.ReadAllText(Path.Combine(dir, "precious.txt")));
        Assert.Equal(2, (await Run("data", "synth", Path.Combine(dir, "new"), "--noise", "0.9")).Code);
    }

    [Theory]
    [InlineData("--config", "no-equals-sign")]
    [InlineData("--trials", "0")]
    [InlineData("--bogus")]
    public async Task Bad_options_exit_two(params string[] options)
    {
        var (code, _, err) = await Run(["demo", .. options]);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", err);
    }

    [Fact]
    public async Task Bad_configuration_exits_two_naming_the_setting()
    {
        var (code, _, err) = await Run("sweep", "run", SpecFile(Dataset.Value), "--config", "Aunce:Checkpoints:Store=s3");
        Assert.Equal(2, code);
        Assert.Contains("Aunce:Checkpoints:Store 's3' is not one of: local, azure-blob", err);
    }

    [Fact]
    public async Task Sweep_run_trains_on_an_embedded_silo_and_ends_with_the_best_line()
    {
        var checkpoints = Path.Combine(CliHarness.TempDirectory(), "ckpt");

        // Grain state of its own: in-process runs of other tests share the working directory's default .aunce/state, and two
        // embedded silos writing the sweep directory's one state file at once conflict (InconsistentStateException).
        var (code, output, err) = await Run("sweep", "run", SpecFile(Dataset.Value), "--config", $"Aunce:Checkpoints:Path={checkpoints}",
            "--config", $"Aunce:Silo:StatePath={Path.Combine(Path.GetDirectoryName(checkpoints)!, "state")}");
        Assert.True(code == 0, err + output);
        var lines = output.TrimEnd().Split('\n');
        Assert.Contains(lines, l => l.Contains("fold 2 epoch 1: F1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("rank trial state", StringComparison.Ordinal));
        var best = lines[^1];
        Assert.Matches(@"^best: trial=\d+ f1=0\.\d{4} checkpoint=/", best);
        var path = best[(best.IndexOf("checkpoint=", StringComparison.Ordinal) + "checkpoint=".Length)..].Trim();
        Assert.StartsWith(checkpoints, path);
        var (header, encoder) = Training.Checkpoint.LoadEncoder(await File.ReadAllBytesAsync(path), path);
        using (encoder)
        {
            Assert.Equal(2, header.Epoch);
        }
    }
}
