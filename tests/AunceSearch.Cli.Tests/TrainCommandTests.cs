using AunceSearch.Training.Data;

namespace AunceSearch.Cli.Tests;

public sealed class TrainCommandTests
{
    private static readonly Lazy<string> Dataset = new(() =>
    {
        var root = Path.Combine(Temp(), "data");
        SyntheticAuFaces.Generate(root, new SyntheticOptions { Subjects = 6, ImagesPerSubject = 8, ImageSize = 32, Folds = 2, OccurrenceRates = [0.3, 0.6, 0.4] });
        return root;
    });

    private static string Temp()
    {
        var d = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    private static string Spec(string model = "{encoder: resnet18, width: 4, feature_dim: 8}", string extra = "")
    {
        var file = Path.Combine(Temp(), "train.yaml");
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
        var output = Temp();
        var spec = Spec();
        var (code, stdout, stderr) = await CliHarness.Run("train", spec, "--out", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("fold 1 epoch 1/1", stdout);
        Assert.Contains("fold 2 epoch 1/1", stdout);
        Assert.Matches(@"AU1\s+\d+\.\d ±\s+\d+\.\d", stdout);
        Assert.Contains("(2 fold(s); mean ± std over folds)", stdout);
        Assert.True(File.Exists(Path.Combine(output, "t", "f1", "e0001.ckpt")));

        // Existing checkpoints are never overwritten silently.
        (code, _, stderr) = await CliHarness.Run("train", spec, "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("--resume", stderr);

        (code, stdout, stderr) = await CliHarness.Run("train", spec, "--out", output, "--resume", "--epochs", "2", "--fold", "2", "--set", "positives=paper");
        Assert.True(code == 0, stderr);
        Assert.Contains("fold 2: resuming from", stdout);
        Assert.Contains("fold 2 epoch 2/2", stdout);
        Assert.DoesNotContain("fold 1 epoch", stdout);
        Assert.True(File.Exists(Path.Combine(output, "t", "f2", "e0002.ckpt")));
    }

    [Theory]
    [InlineData("--set", "lrr=0.1", "unknown hyperparameter")]
    [InlineData("--set", "objective=mse", "objective")]
    [InlineData("--set", "temperature=-1", "temperature")]
    [InlineData("--fold", "7", "--fold 7")]
    [InlineData("--epochs", "zero", "--epochs")]
    public async Task Bad_arguments_exit_two_naming_the_input(string option, string value, string message)
    {
        var (code, _, stderr) = await CliHarness.Run("train", Spec(), "--out", Temp(), option, value);
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
        var (code, _, stderr) = await CliHarness.Run("train", Spec(model), "--out", Temp());
        Assert.Equal(2, code);
        Assert.Contains("model", stderr);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public async Task A_swin_whose_windows_do_not_tile_the_image_fails_with_a_clear_message()
    {
        var (code, _, stderr) = await CliHarness.Run("train", Spec("{encoder: swin-t, embed_dim: 8, heads: [1, 1, 1, 1], depths: [1, 1, 1, 1]}"), "--out", Temp());
        Assert.Equal(2, code);
        Assert.Contains("window", stderr);
    }
}
