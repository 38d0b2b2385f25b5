using System.Security.Cryptography;
using AunceSearch.Training.Data;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// One test per class of bad input the CLI guards against: each asserts the exit code, the message (naming the input and
/// what is wrong) and that no data was changed.
/// </summary>
public sealed class BadInputTests
{
    private static readonly Lazy<string> Pristine = new(CliHarness.SyntheticDataset);

    /// <summary>A private copy of the synthetic dataset, for tests that damage it.</summary>
    private static string CopyOfDataset() => CliHarness.CopyOf(Pristine.Value, "data");

    /// <summary>Every file under <paramref name="dir"/> with its SHA-256, to show that nothing was changed.</summary>
    private static SortedDictionary<string, string> Snapshot(string dir) => new(
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    private static string Spec(string root, string training = "", string dataset = "", string model = "{encoder: resnet18, width: 4, feature_dim: 8}",
        string search = "{trials: 1}", string device = "cpu")
    {
        var file = Path.Combine(CliHarness.TempDirectory(), "spec.yaml");
        File.WriteAllText(file, $"""
            name: bad
            seed: 1
            dataset: {"{"}root: {root}, folds: [1, 2], image_size: 32{dataset}{"}"}
            model: {model}
            training: {"{"}epochs: 1, batch_size: 8, probe_steps: 5, device: {device}{training}{"}"}
            search: {search}
            """);
        return file;
    }

    private static string ListFile(string root, string name) => Path.Combine(root, "list", name);

    private static void Truncate(string file, double keep)
    {
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(int)(bytes.Length * keep)]);
    }

    // 1. Data integrity ------------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_truncated_png_is_rejected_with_its_list_line_and_validate_deep_reports_every_bad_image()
    {
        var root = CopyOfDataset();
        var lines = File.ReadAllLines(ListFile(root, "SYN_train_img_path_fold1.txt"));
        var imageDir = AuListReader.FindImageDirectory(root);
        Truncate(Path.Combine(imageDir, lines[3]), 0.6);                                  // line 4: cut short
        File.WriteAllText(Path.Combine(imageDir, lines[9]), "not an image at all");      // line 10: garbage
        var spec = Spec(root);
        var before = Snapshot(root);

        // The shallow check only reads lists; --deep decodes every image and reports both problems at once.
        Assert.Equal(0, (await CliHarness.Run("sweep", "validate", spec)).Code);
        var (code, stdout, stderr) = await CliHarness.Run("sweep", "validate", spec, "--deep");
        Assert.Equal(2, code);
        Assert.Contains("2 of 48 images cannot be used", stderr);
        Assert.Contains("SYN_train_img_path_fold1.txt:4", stderr);
        Assert.Contains("the file is truncated", stderr);
        Assert.Contains("SYN_train_img_path_fold1.txt:10", stderr);
        Assert.Empty(stdout);

        // Training never sees a partial image: it stops with the line that lists it.
        var output = CliHarness.TempDirectory();
        (code, _, stderr) = await CliHarness.Run("train", spec, "--fold", "1", "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("SYN_train_img_path_fold1.txt:4", stderr);
        Assert.Contains("truncated", stderr);
        Assert.Empty(Directory.GetFiles(output, "*.ckpt", SearchOption.AllDirectories));
        Assert.Equal(before, Snapshot(root));

        // With skip_bad the two are skipped, and said so.
        var skipping = Spec(root, dataset: ", skip_bad: true");
        (code, stdout, stderr) = await CliHarness.Run("sweep", "validate", skipping, "--deep");
        Assert.True(code == 0, stderr);
        Assert.Contains("except 2, which training will skip", stdout);
        Assert.Contains("warning: will skip", stderr);
        (code, stdout, stderr) = await CliHarness.Run("train", skipping, "--fold", "1", "--out", CliHarness.TempDirectory());
        Assert.True(code == 0, stderr);
        Assert.Contains("[2 bad data entries skipped]", stdout);
        Assert.Equal(before, Snapshot(root));
    }

    [Theory]
    [InlineData("SYN_train_img_path_fold1.txt")]
    [InlineData("SYN_train_label_fold1.txt")]
    public async Task A_control_character_in_a_list_or_label_file_is_named_at_its_line_and_column(string file)
    {
        var root = CopyOfDataset();
        var path = ListFile(root, file);
        var lines = File.ReadAllLines(path);
        lines[4] = lines[4].Insert(3, "\0");
        File.WriteAllLines(path, lines);
        var before = Snapshot(root);
        var (code, stdout, stderr) = await CliHarness.Run("sweep", "validate", Spec(root));
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.StartsWith($"error: {path}:5:4: a control character (U+0000) in the line", stderr);
        Assert.Equal(before, Snapshot(root));
    }

    [Fact]
    public async Task A_spec_whose_dataset_root_is_wrong_is_named_with_the_spec_file()
    {
        var spec = Spec(Path.Combine(CliHarness.TempDirectory(), "no-such-data"));
        var (code, _, stderr) = await CliHarness.Run("sweep", "validate", spec);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: {spec}: dataset.root: ", stderr);
    }

    [Theory]
    [InlineData("directory", "is a directory, not an image file")]
    [InlineData("dangling link", "is a link to")]
    [InlineData("missing", "not found")]
    public async Task Validate_names_a_listed_image_that_is_not_a_readable_file_with_its_list_line(string kind, string expected)
    {
        var root = CopyOfDataset();
        var lines = File.ReadAllLines(ListFile(root, "SYN_train_img_path_fold1.txt"));
        var image = Path.Combine(AuListReader.FindImageDirectory(root), lines[5]);   // line 6
        File.Delete(image);
        switch (kind)
        {
            case "directory":
                Directory.CreateDirectory(image);
                break;
            case "dangling link":
                File.CreateSymbolicLink(image, Path.Combine(root, "gone.png"));
                break;
        }

        // Without --deep: a stat per image, no decode.
        var (code, stdout, stderr) = await CliHarness.Run("sweep", "validate", Spec(root));
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Contains($"SYN_train_img_path_fold1.txt:6: image {image} {expected}", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("SYN_train_img_path_fold1.txt", 7)]
    [InlineData("SYN_train_label_fold1.txt", 20)]
    public async Task A_blank_line_inside_a_list_or_label_file_is_an_error_not_a_shift(string file, int line)
    {
        var root = CopyOfDataset();
        var path = ListFile(root, file);
        var lines = File.ReadAllLines(path).ToList();
        lines.Insert(line - 1, "   ");
        File.WriteAllLines(path, lines);
        var before = Snapshot(root);
        foreach (var args in new[] { new[] { "sweep", "validate", Spec(root) }, ["train", Spec(root, dataset: ", skip_bad: true"), "--out", CliHarness.TempDirectory()] })
        {
            var (code, _, stderr) = await CliHarness.Run(args);
            Assert.Equal(2, code);
            Assert.Contains($"{file}:{line}: blank line inside the list", stderr);
        }

        Assert.Equal(before, Snapshot(root));

        // Blank lines after the last entry pair nothing and are fine.
        File.WriteAllLines(path, lines.Where(l => l != "   ").Concat(["", "  ", ""]));
        Assert.Equal(0, (await CliHarness.Run("sweep", "validate", Spec(root))).Code);
    }

    // 5. Diverged trials -----------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_diverged_training_fails_with_the_step_and_keeps_no_checkpoint()
    {
        var output = CliHarness.TempDirectory();
        var (code, stdout, stderr) = await CliHarness.Run("train", Spec(Pristine.Value), "--fold", "1", "--set", "lr=1e30", "--out", output);
        Assert.Equal(1, code);
        Assert.Matches(@"error: fold 1: loss became (NaN|\+Inf|-Inf) at epoch 1, step \d+", stderr);
        Assert.DoesNotContain(" at AunceSearch.", stderr);   // no stack trace
        Assert.DoesNotContain("epoch 1/1", stdout);
        Assert.Empty(Directory.GetFiles(output, "*.ckpt", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_diverged_trial_fails_the_sweep_continues_and_the_best_is_a_real_trial()
    {
        var spec = Spec(Pristine.Value, search: "{trials: 2, sampler: grid, scheduler: {kind: none}, space: {lr: {choice: [1.0e30, 1.0e-3]}}}");
        var journal = CliHarness.TempDirectory();
        var checkpoints = CliHarness.TempDirectory();
        var (code, stdout, stderr) = await CliHarness.Run("sweep", "run", spec, "--journal", journal, "--config", $"Aunce:Checkpoints:Path={checkpoints}");
        Assert.True(code == 0, stderr + stdout);
        Assert.Matches(@"trial \d failed: fold \d: diverged: loss became (NaN|\+Inf|-Inf) at epoch 1, step \d+", stdout);
        Assert.Contains("1 completed, 1 failed", stdout);
        var best = stdout.TrimEnd().Split('\n')[^1];
        Assert.Matches(@"^best: trial=\d f1=0\.\d{4} ", best);
        var bestTrial = best["best: trial=".Length..][0];
        Assert.DoesNotMatch($@"trial {bestTrial} failed", stdout);
        Assert.DoesNotContain(" at AunceSearch.", stderr);
    }

    // 2. Checkpoint loading --------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("truncated")]
    [InlineData("empty")]
    [InlineData("random")]
    public async Task A_damaged_latest_checkpoint_falls_back_to_the_previous_one_and_is_kept(string damage)
    {
        var output = CliHarness.TempDirectory();
        var spec = Spec(Pristine.Value);
        var (code, _, stderr) = await CliHarness.Run("train", spec, "--fold", "1", "--epochs", "2", "--out", output);
        Assert.True(code == 0, stderr);
        var latest = Path.Combine(output, "bad", "f1", "e0002.ckpt");
        var good = File.ReadAllBytes(latest);
        byte[] damaged = damage switch
        {
            "truncated" => good[..(good.Length / 2)],
            "empty" => [],
            _ => RandomNumberGenerator.GetBytes(4096),
        };
        File.WriteAllBytes(latest, damaged);
        var previous = Snapshot(Path.Combine(output, "bad", "f1"))["e0001.ckpt"];

        string stdout;
        (code, stdout, stderr) = await CliHarness.Run("train", spec, "--fold", "1", "--epochs", "3", "--resume", "--out", output);
        Assert.True(code == 0, stderr);
        Assert.Contains($"warning: {latest}: ", stderr);
        Assert.Contains(damage switch { "truncated" => "truncated", "empty" => "empty file (0 bytes)", _ => "bad magic" }, stderr);
        Assert.Contains("resuming from the previous good checkpoint e0001.ckpt (epoch 1)", stderr);
        Assert.Contains("fold 1 epoch 2/3", stdout);
        Assert.Contains("fold 1 epoch 3/3", stdout);

        // Nothing lost: the damaged file is kept beside the new epoch 2, the good one untouched.
        var after = Snapshot(Path.Combine(output, "bad", "f1"));
        Assert.Equal(previous, after["e0001.ckpt"]);
        Assert.Equal(damaged, File.ReadAllBytes(latest + ".damaged"));
        Assert.True(after.ContainsKey("e0003.ckpt"));
    }

    [Fact]
    public async Task Resuming_with_another_model_or_hyperparameters_is_refused_naming_the_values()
    {
        var output = CliHarness.TempDirectory();
        var (code, _, stderr) = await CliHarness.Run("train", Spec(Pristine.Value), "--fold", "1", "--out", output);
        Assert.True(code == 0, stderr);
        var before = Snapshot(output);

        (code, _, stderr) = await CliHarness.Run("train", Spec(Pristine.Value, model: "{encoder: resnet18, width: 8, feature_dim: 8}"),
            "--fold", "1", "--epochs", "2", "--resume", "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("e0001.ckpt: --resume: the checkpoint was trained with other settings", stderr);
        Assert.Contains("model.width 4 (now 8)", stderr);

        (code, _, stderr) = await CliHarness.Run("train", Spec(Pristine.Value), "--fold", "1", "--epochs", "2", "--resume", "--set", "lr=0.002", "--out", output);
        Assert.Equal(2, code);
        Assert.Matches(@"lr \S+ \(now 0\.002\)", stderr);
        Assert.Equal(before, Snapshot(output));
    }

    [Fact]
    public async Task When_every_checkpoint_is_damaged_resume_is_refused_and_nothing_is_touched()
    {
        var output = CliHarness.TempDirectory();
        var (code, _, stderr) = await CliHarness.Run("train", Spec(Pristine.Value), "--fold", "1", "--out", output);
        Assert.True(code == 0, stderr);
        var file = Path.Combine(output, "bad", "f1", "e0001.ckpt");
        Truncate(file, 0.3);
        var before = Snapshot(output);
        (code, _, stderr) = await CliHarness.Run("train", Spec(Pristine.Value), "--fold", "1", "--epochs", "2", "--resume", "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("--resume: no usable checkpoint", stderr);
        Assert.Contains("truncated", stderr);
        Assert.Equal(before, Snapshot(output));
    }

    // 3. Configuration -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("Aunce:Checkpoints:Pth=/x", "Aunce:Checkpoints:Pth: unknown setting (did you mean Aunce:Checkpoints:Path?)")]
    [InlineData("Aunce:Checkpoint:Path=/x", "Aunce:Checkpoint: unknown configuration section (did you mean Aunce:Checkpoints?)")]
    [InlineData("Aunce:Training:TorchThreads=-5", "Aunce:Training:TorchThreads is -5")]
    [InlineData("Aunce:Training:Slots=0", "Aunce:Training:Slots is 0; it must be between 1 and 1024")]
    [InlineData("Aunce:Training:Slots=abc", "Aunce:Training:Slots 'abc' is not a whole number")]
    [InlineData("Aunce:Checkpoints:MaxBufferedMiB=0", "Aunce:Checkpoints:MaxBufferedMiB must be a number of MiB above 0 (got 0)")]
    [InlineData("Aunce:Training:TrialsPerDevice=0", "Aunce:Training:TrialsPerDevice is 0; it must be between 1 and 64")]
    [InlineData("Aunce:Training:SimulatedEpochSeconds=-1", "Aunce:Training:SimulatedEpochSeconds is -1; it must be 0 (real training)")]
    [InlineData("Aunce:Silo:FastFailureDetection=maybe", "Aunce:Silo:FastFailureDetection 'maybe' is not true or false")]
    [InlineData("Aunce:Telemetry:OtlpEndpoint=localhost:4317", "Aunce:Telemetry:OtlpEndpoint 'localhost:4317' is not an http(s) URL")]
    [InlineData("Aunce:Silo:Trainer=false", "Aunce:Silo:Trainer is false, but this command's embedded silo is the only silo")]
    public async Task A_bad_setting_exits_two_with_one_line_naming_it(string setting, string expected)
    {
        var journal = CliHarness.TempDirectory();
        var (code, stdout, stderr) = await CliHarness.Run("sweep", "run", Spec(Pristine.Value), "--config", setting, "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.DoesNotContain("sweep bad-", stdout);   // no sweep started
        Assert.Empty(Directory.EnumerateFileSystemEntries(journal));
    }

    [Fact]
    public async Task A_malformed_azure_connection_string_exits_two()
    {
        var (code, _, stderr) = await CliHarness.Run("sweep", "run", Spec(Pristine.Value),
            "--config", "Aunce:Checkpoints:Store=azure-blob", "--config", "Aunce:Checkpoints:ConnectionString=AccountName=x;garbage");
        Assert.Equal(2, code);
        Assert.Contains("Aunce:Checkpoints:ConnectionString is not a valid Azure Storage connection string", stderr);
    }

    // 4. Pre-flight ----------------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_model_that_cannot_be_built_for_the_crop_is_refused_before_the_sweep_starts()
    {
        var journal = CliHarness.TempDirectory();
        var spec = Spec(Pristine.Value, model: "{encoder: swin-t, feature_dim: 8}");   // 28-px crops: 7x7 tokens, which Swin-T cannot halve
        var (code, stdout, stderr) = await CliHarness.Run("sweep", "run", spec, "--journal", journal);
        Assert.Equal(2, code);
        Assert.StartsWith("error: model: swin: stage 1 resolution 7", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.DoesNotContain("sweep bad-", stdout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(journal));
        Assert.Equal(2, (await CliHarness.Run("sweep", "validate", spec)).Code);
    }

    [Fact]
    public async Task A_sweep_whose_checkpoints_cannot_fit_the_local_store_is_refused_before_anything_is_written()
    {
        // ResNet-50 + AdamW (~300 MB a fold) x 2 folds x 1 epoch x 200,000 trials with keep: all is over 100 TB.
        var spec = Spec(Pristine.Value, model: "{encoder: resnet50, feature_dim: 16}",
            search: "{trials: 200000, sampler: random, scheduler: {kind: none}, space: {lr: {log_uniform: [1.0e-4, 1.0e-2]}}}");
        File.AppendAllText(spec, "\ncheckpoints: {keep: all}\n");
        var journal = CliHarness.TempDirectory();
        var checkpoints = Path.Combine(CliHarness.TempDirectory(), "checkpoints");
        var (code, stdout, stderr) = await CliHarness.Run("sweep", "run", spec, "--journal", journal, "--config", $"Aunce:Checkpoints:Path={checkpoints}");
        Assert.True(code == 2 && stderr.Contains("checkpoints: up to 400000 x ", StringComparison.Ordinal), stderr);
        Assert.Contains("keep: all — 200000 trials x 2 folds x 1 epoch", stderr);
        Assert.Contains($"but the checkpoint store {checkpoints} has ", stderr);
        Assert.Contains("keep fewer checkpoints", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.DoesNotContain("sweep bad-", stdout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(journal));
        Assert.False(Directory.Exists(checkpoints) && Directory.EnumerateFiles(checkpoints, "*", SearchOption.AllDirectories).Any());

        // sweep validate shows the same estimate and refuses it too (against the store a plain `sweep run` here would use).
        (code, stdout, stderr) = await CliHarness.Run("sweep", "validate", spec);
        Assert.Equal(2, code);
        Assert.Contains("checkpoints: up to 400000 x ", stderr);

        // With the default retention (best-k 3) the same sweep fits: the 3 best trials and the 1 running trial, 2 folds each.
        File.WriteAllText(spec, File.ReadAllText(spec).Replace("checkpoints: {keep: all}", ""));
        (code, stdout, stderr) = await CliHarness.Run("sweep", "validate", spec);
        Assert.True(code == 0, stderr);
        Assert.Contains("checkpoints: up to 8 x ", stdout);
        Assert.Contains("keep: best-k 3 — 3 best trials x 2 folds x 1 epoch + 1 running trial x 2 folds x 1 epoch", stdout);
        Assert.Contains(" free", stdout);
    }


    [Fact]
    public async Task An_unreachable_blob_endpoint_fails_once_and_fast()
    {
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();   // nothing listens there now
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (code, _, stderr) = await CliHarness.Run("sweep", "run", Spec(Pristine.Value), "--config", "Aunce:Checkpoints:Store=azure-blob", "--config",
            $"Aunce:Checkpoints:ConnectionString=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;");
        Assert.Equal(2, code);
        Assert.Contains($"checkpoint store: Aunce:Checkpoints:ConnectionString (endpoint http://127.0.0.1:{port}/devstoreaccount1", stderr);
        Assert.Contains("not reachable", stderr);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_checkpoint_or_journal_path_that_is_a_file_fails_before_training()
    {
        var file = Path.Combine(CliHarness.TempDirectory(), "a-file");
        File.WriteAllText(file, "mine");
        var (code, _, stderr) = await CliHarness.Run("sweep", "run", Spec(Pristine.Value), "--config", $"Aunce:Checkpoints:Path={file}");
        Assert.Equal(2, code);
        Assert.Contains($"checkpoint store: Aunce:Checkpoints:Path: {file} is a file, not a directory", stderr);
        (code, _, stderr) = await CliHarness.Run("sweep", "run", Spec(Pristine.Value), "--journal", file);
        Assert.Equal(2, code);
        Assert.Contains($"sweep journal: --journal: {file} is a file, not a directory", stderr);
        (code, _, stderr) = await CliHarness.Run("train", Spec(Pristine.Value), "--out", file);
        Assert.Equal(2, code);
        Assert.Contains($"--out: {file} is a file, not a directory", stderr);
        Assert.Equal("mine", File.ReadAllText(file));
    }

    [Fact]
    public async Task A_cuda_device_on_a_machine_without_one_fails_once()
    {
        if (Training.Runtime.TorchRuntime.CudaAvailable)
        {
            return;   // this check needs a machine without CUDA (every CI machine)
        }

        var (code, _, stderr) = await CliHarness.Run("sweep", "run", Spec(Pristine.Value, device: "cuda"));
        Assert.Equal(2, code);
        Assert.Contains("training.device is cuda, but libtorch sees no CUDA device", stderr);
    }

    [Fact]
    public async Task Pretrained_weights_that_are_not_safetensors_fail_before_training()
    {
        var weights = Path.Combine(CliHarness.TempDirectory(), "weights.safetensors");
        File.WriteAllText(weights, "this is not a safetensors file");
        var (code, _, stderr) = await CliHarness.Run("sweep", "run", Spec(Pristine.Value, model: $"{{encoder: resnet18, width: 4, feature_dim: 8, pretrained: {weights}}}"));
        Assert.Equal(2, code);
        Assert.Contains("error: model.pretrained: ", stderr);
        Assert.Contains(weights, stderr);
    }

    // 6. YAML shape through the CLI ------------------------------------------------------------------------------------

    [Fact]
    public async Task A_multi_document_spec_is_refused()
    {
        var spec = Spec(Pristine.Value);
        File.AppendAllText(spec, "\n---\nname: second\n");
        var (code, _, stderr) = await CliHarness.Run("sweep", "validate", spec);
        Assert.Equal(2, code);
        Assert.Contains("a second YAML document", stderr);
    }

    [Fact]
    public async Task A_directory_given_as_the_spec_is_named_as_such()
    {
        var dir = CliHarness.TempDirectory();
        foreach (var verb in new[] { new[] { "sweep", "validate", dir }, ["sweep", "run", dir], ["train", dir] })
        {
            var (code, _, stderr) = await CliHarness.Run(verb);
            Assert.Equal(2, code);
            Assert.Contains($"{dir}: is a directory, not a sweep spec file", stderr);
        }
    }
}
