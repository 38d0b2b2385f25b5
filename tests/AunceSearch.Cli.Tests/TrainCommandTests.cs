using AunceSearch.Training.Data;

namespace AunceSearch.Cli.Tests;

public sealed class TrainCommandTests
{
    private static readonly Lazy<string> Dataset = new(CliHarness.SyntheticDataset);

    private static string Spec(string model = "{encoder: resnet18, width: 4, feature_dim: 8}", string extra = "")
    {
        var file = Path.Combine(CliHarness.TempDirectory(), "train.yaml");
        File.WriteAllText(file, $"""
            name: t
            dataset: {"{"}root: {Dataset.Value}, folds: [1, 2], image_size: 32{"}"}
            model: {model}
            training: {"{"}epochs: 1, batch_size: 8, probe_steps: 5, device: cpu{extra}{"}"}
            search: {"{trials: 1}"}
            """);
        return file;
    }

    [Fact]
    public async Task Trains_every_fold_prints_a_per_au_table_and_resumes()
    {
        var output = CliHarness.TempDirectory();
        var spec = Spec();
        var (code, stdout, stderr) = await CliHarness.Run("train", spec, "--out", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("fold 1 epoch 1/1", stdout);
        Assert.Contains("fold 2 epoch 1/1", stdout);
        Assert.Matches(@"AU1\s+\d+\.\d ±\s+\d+\.\d", stdout);
        Assert.Contains("(2 fold(s); ×100, mean ± std over folds)", stdout);
        Assert.Contains("all-active F1", stdout);
        Assert.Contains("majority acc.", stdout);
        Assert.Matches(@"(beats the all-active baseline|does not beat the all-active baseline)", stdout);
        Assert.True(File.Exists(Path.Combine(output, "t", "f1", "e0001.ckpt")));

        // Existing checkpoints are never overwritten silently.
        (code, _, stderr) = await CliHarness.Run("train", spec, "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("--resume", stderr);

        (code, stdout, stderr) = await CliHarness.Run("train", spec, "--out", output, "--resume", "--epochs", "2", "--fold", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("fold 2: resuming from", stdout);
        Assert.Contains("fold 2 epoch 2/2", stdout);
        Assert.DoesNotContain("fold 1 epoch", stdout);
        Assert.True(File.Exists(Path.Combine(output, "t", "f2", "e0002.ckpt")));
    }

    /// <summary>A copy of the synthetic set described by one label table (the generic layout) instead of list files.</summary>
    private static string TableCopy()
    {
        var root = CliHarness.CopyOf(Dataset.Value, "table");

        var imageDir = AuListReader.FindImageDirectory(root);
        var rows = new List<string> { "subject,AU1,AU2,AU4,path" };    // columns in any order; path found by name
        foreach (var side in new[] { "train", "test" })
        {
            var s = AuListReader.Read(root, "SYN", side, 1);
            rows.AddRange(Enumerable.Range(0, s.Count).Select(i =>
                $"{s.Subjects[i]},{s.Labels[i, 0]},{s.Labels[i, 1]},{s.Labels[i, 2]},{Path.GetRelativePath(imageDir, s.ImagePaths[i]).Replace('\\', '/')}"));
        }

        File.WriteAllLines(Path.Combine(root, "labels.csv"), rows);
        return root;
    }

    private static string TableSpec(string root, string extra = "")
    {
        var file = Path.Combine(CliHarness.TempDirectory(), "table.yaml");
        File.WriteAllText(file, $"""
            name: tab
            dataset: {"{"}format: table, root: {root}, labels: labels.csv, images: {Path.GetFileName(AuListReader.FindImageDirectory(root))}, split: subjects, split_folds: 3, folds: [2], image_size: 32, crop_size: 28, cache: stream, prefetch: 2{extra}{"}"}
            model: {"{encoder: small-cnn, width: 4, feature_dim: 8}"}
            training: {"{epochs: 1, batch_size: 8, probe_steps: 5, device: cpu}"}
            search: {"{trials: 1}"}
            """);
        return file;
    }

    [Fact]
    public async Task Trains_from_a_label_table_with_a_subject_split_streaming_images()
    {
        var (code, stdout, stderr) = await CliHarness.Run("train", TableSpec(TableCopy()), "--out", CliHarness.TempDirectory());
        Assert.True(code == 0, stderr);
        Assert.Contains("fold 2 epoch 1/1", stdout);
        Assert.Contains("readable (48 list entries)", stderr);
    }

    [Fact]
    public async Task A_corrupt_image_fails_naming_the_table_row_or_is_skipped_and_counted_on_request()
    {
        var root = TableCopy();
        var rows = File.ReadAllLines(Path.Combine(root, "labels.csv"));
        var victim = rows[5].Split(',')[^1];
        File.WriteAllText(Path.Combine(AuListReader.FindImageDirectory(root), victim), "not an image");
        var (code, _, stderr) = await CliHarness.Run("train", TableSpec(root), "--out", CliHarness.TempDirectory());
        Assert.NotEqual(0, code);
        Assert.Contains("labels.csv:6", stderr);
        Assert.Contains("cannot decode", stderr);

        var (ok, stdout, err) = await CliHarness.Run("train", TableSpec(root, ", skip_bad: true"), "--out", CliHarness.TempDirectory());
        Assert.True(ok == 0, err);
        Assert.Contains("[1 bad data entries skipped]", stdout);
    }

    [Fact]
    public void The_trainer_reads_every_value_of_the_shared_modes_table_and_refuses_any_other_naming_the_mode()
    {
        // One table (AunceSearch.Model.TrainingVocabulary) serves the spec loader and the trainer: each allowed value trains,
        // the first is what an absent key means, and a value outside it is refused with the mode's name.
        var defaults = AunceSearch.Training.TrainingSettings.From(new Dictionary<string, string>());
        Assert.Equal(AunceSearch.Model.TrainingVocabulary.Hyperparameters["lr"], defaults.Lr);
        Assert.Equal((int)AunceSearch.Model.TrainingVocabulary.Hyperparameters["batch_size"], defaults.BatchSize);
        foreach (var (key, values) in AunceSearch.Model.TrainingVocabulary.Modes)
        {
            foreach (var value in values)
            {
                _ = AunceSearch.Training.TrainingSettings.From(new Dictionary<string, string> { [key] = value });
            }

            var e = Assert.Throws<ArgumentException>(() => AunceSearch.Training.TrainingSettings.From(new Dictionary<string, string> { [key] = "no-such-value" }));
            Assert.Contains(key, e.Message);
        }
    }

    [Theory]
    [InlineData("--set", "lrr=0.1", "unknown hyperparameter")]
    [InlineData("--set", "objective=mse", "objective")]
    [InlineData("--set", "temperature=-1", "temperature")]
    [InlineData("--fold", "7", "--fold 7")]
    [InlineData("--epochs", "zero", "--epochs")]
    public async Task Bad_arguments_exit_two_naming_the_input(string option, string value, string message)
    {
        var (code, _, stderr) = await CliHarness.Run("train", Spec(), "--out", CliHarness.TempDirectory(), option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
    }

    [Theory]
    [InlineData("{encoder: vgg16}", "encoder")]
    [InlineData("{encoder: swin-t, depths: [2, 2, 2]}", "depths")]
    [InlineData("{encoder: resnet50, pretrained: nowhere.safetensors}", "file not found")]
    [InlineData("{encoder: small-cnn, pretrained: train.yaml}", "resnet or swin")]
    public async Task Bad_model_sections_exit_two_naming_the_field(string model, string message)
    {
        var (code, _, stderr) = await CliHarness.Run("train", Spec(model), "--out", CliHarness.TempDirectory());
        Assert.Equal(2, code);
        Assert.Contains("model", stderr);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public async Task A_swin_whose_windows_do_not_tile_the_image_fails_with_a_clear_message()
    {
        var (code, _, stderr) = await CliHarness.Run("train", Spec("{encoder: swin-t, embed_dim: 8, heads: [1, 1, 1, 1], depths: [1, 1, 1, 1]}"), "--out", CliHarness.TempDirectory());
        Assert.True(code == 2, stderr);
        Assert.Matches("swin: stage 1 resolution 7 is odd|window", stderr);   // 32 px images, 28 px crops: 7×7 tokens
    }
}
