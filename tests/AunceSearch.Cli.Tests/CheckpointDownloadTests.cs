using System.Security.Cryptography;
using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using AunceSearch.Coordination;
using AunceSearch.Hosting;
using AunceSearch.Model;
using AunceSearch.Spec;
using AunceSearch.Training;
using AunceSearch.Training.Models;
using static TorchSharp.torch;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// <c>aunce checkpoint download</c> on a sweep journal and checkpoint store laid out as a sweep leaves them: the best
/// trial and its best fold by default, the trial and fold asked for otherwise, and a clear error (exit 2, nothing
/// written) for each kind of bad request. (That PyTorch reads the exports is ExportTests' part.)
/// </summary>
[Collection(Name)]
public sealed class CheckpointDownloadTests
{
    /// <summary>
    /// Run alone: these tests build and export libtorch models on xunit's threads, outside the training executor's
    /// threads and dispose scopes; a full run once saw an in-process training test fail inside libtorch (a corrupted
    /// scalar in add) while they ran beside it.
    /// </summary>
    public const string Name = "checkpoint exports, alone";

    private static readonly string[] Aus = ["AU1", "AU2", "AU4"];

    /// <summary>A journal for sweep <c>dl</c>: trial 0 (F1 0.50) and trial 1 (the best, F1 0.60; fold 2 0.65 beats fold 1 0.55).</summary>
    private static (string Journal, string Store, string Work) Sweep(bool damageTrial1Fold2 = false)
    {
        var work = CliHarness.TempDirectory();
        var journalRoot = Path.Combine(work, "sweeps");
        var storeDir = Path.Combine(work, "checkpoints");
        var store = new LocalDirectoryCheckpointStore(storeDir);
        var stateDir = Path.Combine(work, "state");
        var journal = SweepJournal.Create(journalRoot, "dl", "name: dl\n");
        journal.WriteSettings(new Dictionary<string, string?>
        {
            ["Aunce:Checkpoints:Path"] = storeDir, ["Aunce:Silo:GrainStorage"] = "file", ["Aunce:Silo:StatePath"] = stateDir,
        });

        FoldEpochReport Fold(int trial, int fold, double f1)
        {
            var key = CheckpointKeys.ForEpoch("dl", trial, fold, 2);
            using var encoder = EncoderFactory.Create(new ModelOptions { Encoder = "small-cnn", Width = 4, FeatureDim = 8 }, Aus.Length);
            var header = new CheckpointHeader
            {
                Label = key, Epoch = 2, Seed = trial, AuNames = Aus, Model = new ModelOptions { Encoder = "small-cnn", Width = 4, FeatureDim = 8 },
                Hyperparameters = new Dictionary<string, string> { ["lr"] = trial == 1 ? "0.002" : "0.001" },
            };
            var bytes = Checkpoint.Write(header, encoder, (Action<BinaryWriter>?)null);
            if (damageTrial1Fold2 && trial == 1 && fold == 2)
            {
                bytes = bytes[..(bytes.Length / 2)];
            }

            store.SaveAsync(key, bytes).GetAwaiter().GetResult();
            return new FoldEpochReport(trial, fold, 2, f1, 0.7, 0.1, [f1, f1, f1], 1.0, key, store.Locate(key), "test")
            {
                CheckpointSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)),   // as the fold grain records it
            };
        }

        TrialSummary Trial(int trial, params FoldEpochReport[] folds) => new()
        {
            Trial = trial, State = TrialState.Completed, Hyperparameters = [], LastEpoch = 2, LastValue = folds.Average(f => f.MeanF1),
            LastFolds = folds, LastCheckpointKeys = [.. folds.Select(f => f.CheckpointKey)], LastCheckpoints = [.. folds.Select(f => f.CheckpointLocation)],
        };

        // The sweep's record as its grain keeps it (the embedded silo's state files): a completed sweep of these two trials.
        var definition = SweepSpecLoader.Parse("name: dl\ndataset: {root: data, folds: [1, 2]}\nsearch: {trials: 2, space: {lr: {log_uniform: [1.0e-4, 1.0e-2]}}}\n", "dl.yaml", work);
        var state = new CoordinatorState { Definition = definition, State = SweepState.Completed, NextTrial = 2, Inputs = 1, Sequence = 1 };
        state.Trials[0] = Trial(0, Fold(0, 1, 0.50), Fold(0, 2, 0.50));
        state.Trials[1] = Trial(1, Fold(1, 1, 0.55), Fold(1, 2, 0.65));
        SweepRecord.WriteSnapshotAsync(stateDir, "dl", CoordinatorSnapshot.Encode(state), 1).GetAwaiter().GetResult();
        return (journalRoot, storeDir, work);
    }

    [Fact]
    public async Task The_best_trials_best_fold_is_exported_by_default_with_its_sha256()
    {
        var (journal, _, work) = Sweep();
        var output = Path.Combine(work, "out", "best.pt");   // "out" does not exist: --create-dirs asks for it
        var (code, stdout, stderr) = await CliHarness.Run("checkpoint", "download", "dl", "-o", output, "--create-dirs", "--journal", journal);
        Assert.True(code == 0, stderr);
        Assert.Contains("trial 1 (best) fold 2 (best on its test split) epoch 2: f1 0.6500", stdout);
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(output)));
        Assert.Contains($"sha256: {sha}", stdout);
        Assert.StartsWith("PK", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(output)[..2]));   // PyTorch's zip container
    }

    [Fact]
    public async Task A_chosen_trial_and_fold_are_exported_in_the_chosen_format()
    {
        var (journal, store, work) = Sweep();
        var output = Path.Combine(work, "t0f1.ckpt");
        var (code, stdout, stderr) = await CliHarness.Run("checkpoint", "download", "dl", "--trial", "0", "--fold", "1", "--format", "native", "-o", output, "--journal", journal);
        Assert.True(code == 0, stderr);
        Assert.Contains("trial 0 fold 1 epoch 2", stdout);
        Assert.Equal(File.ReadAllBytes(new LocalDirectoryCheckpointStore(store).Locate(CheckpointKeys.ForEpoch("dl", 0, 1, 2))), File.ReadAllBytes(output));

        var st = Path.Combine(work, "t1.safetensors");
        (code, _, stderr) = await CliHarness.Run("checkpoint", "download", "dl", "--best", "--fold", "1", "--format", "safetensors", "-o", st, "--journal", journal);
        Assert.True(code == 0, stderr);
        using var tensors = new DisposableDictionary(SafeTensors.Read(st));
        Assert.Contains("heads.weight", tensors.Keys);
    }

    [Theory]
    [InlineData("nosuch", "--trial", "0", "no sweep 'nosuch'")]
    [InlineData("dl", "--trial", "7", "has no trial 7")]
    [InlineData("dl", "--fold", "9", "has no fold 9 (folds: 1, 2)")]
    [InlineData("dl", "--format", "onnx", "'onnx'")]
    public async Task A_bad_request_is_refused_naming_what_is_wrong(string sweep, string option, string value, string expected)
    {
        var (journal, _, work) = Sweep();
        var output = Path.Combine(work, "x.pt");
        var (code, _, stderr) = await CliHarness.Run("checkpoint", "download", sweep, option, value, "-o", output, "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task An_output_whose_directory_is_missing_or_wrong_is_refused_and_nothing_is_created()
    {
        var (journal, _, work) = Sweep();
        File.WriteAllText(Path.Combine(work, "afile"), "x");
        Directory.CreateDirectory(Path.Combine(work, "adir"));
        string[] before = [.. Directory.EnumerateFileSystemEntries(work, "*", SearchOption.AllDirectories).Order()];
        foreach (var (output, expected) in new[]
        {
            (Path.Combine(work, "typo", "deeper", "x.pt"), $"the directory {Path.Combine(work, "typo", "deeper")} does not exist (create it, or pass --create-dirs)"),
            (Path.Combine(work, "afile", "x.pt"), $"{Path.Combine(work, "afile")} is a file, not a directory"),
            (Path.Combine(work, "adir"), $"{Path.Combine(work, "adir")} is a directory; give the file to write"),
        })
        {
            var (code, stdout, stderr) = await CliHarness.Run("checkpoint", "download", "dl", "-o", output, "--journal", journal);
            Assert.Equal(2, code);
            Assert.StartsWith($"error: -o {output}: {expected}", stderr);
            Assert.Single(stderr.Trim().Split('\n'));   // one line
            Assert.Empty(stdout);
        }

        Assert.Equal(before, Directory.EnumerateFileSystemEntries(work, "*", SearchOption.AllDirectories).Order());
    }

    [Fact]
    public async Task A_temporary_file_a_killed_download_left_is_removed_by_the_next_one()
    {
        var (journal, _, work) = Sweep();
        using var gone = System.Diagnostics.Process.Start("true")!;
        await gone.WaitForExitAsync();
        var stale = Path.Combine(work, $"x.pt.tmp-{gone.Id}-{Guid.NewGuid():N}");
        var live = Path.Combine(work, $"x.pt.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");   // a download still running: kept
        File.WriteAllText(stale, "half a checkpoint");
        File.WriteAllText(live, "being written");

        var (code, _, stderr) = await CliHarness.Run("checkpoint", "download", "dl", "-o", Path.Combine(work, "x.pt"), "--journal", journal);
        Assert.True(code == 0, stderr);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(live));
    }

    [Fact]
    public async Task Trial_and_best_together_are_refused()
    {
        var (journal, _, work) = Sweep();
        var (code, _, stderr) = await CliHarness.Run("checkpoint", "download", "dl", "--trial", "1", "--best", "-o", Path.Combine(work, "x.pt"), "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains("--trial and --best are alternatives", stderr);
    }

    [Fact]
    public async Task A_damaged_or_missing_checkpoint_is_named_and_nothing_is_written()
    {
        var (journal, store, work) = Sweep(damageTrial1Fold2: true);
        var output = Path.Combine(work, "x.pt");
        var (code, _, stderr) = await CliHarness.Run("checkpoint", "download", "dl", "-o", output, "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains($"checkpoint {CheckpointKeys.ForEpoch("dl", 1, 2, 2)}", stderr);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFiles(work, "*.tmp-*", SearchOption.AllDirectories));

        File.Delete(new LocalDirectoryCheckpointStore(store).Locate(CheckpointKeys.ForEpoch("dl", 0, 2, 2)));
        (code, _, stderr) = await CliHarness.Run("checkpoint", "download", "dl", "--trial", "0", "--fold", "2", "-o", output, "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains("is not in the checkpoint store", stderr);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task A_checkpoint_that_is_sound_but_not_the_one_the_sweep_recorded_is_refused()
    {
        var (journal, store, work) = Sweep();
        var local = new LocalDirectoryCheckpointStore(store);
        var other = await local.LoadAsync(CheckpointKeys.ForEpoch("dl", 0, 1, 2));
        await local.SaveAsync(CheckpointKeys.ForEpoch("dl", 1, 2, 2), other!);   // another fold's checkpoint put in its place
        var output = Path.Combine(work, "x.pt");
        var (code, _, stderr) = await CliHarness.Run("checkpoint", "download", "dl", "-o", output, "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains($"checkpoint {CheckpointKeys.ForEpoch("dl", 1, 2, 2)}: its SHA-256 is", stderr);
        Assert.Contains("but the sweep recorded", stderr);
        Assert.False(File.Exists(output));
    }

    private sealed class DisposableDictionary(Dictionary<string, Tensor> inner) : IDisposable
    {
        public IEnumerable<string> Keys => inner.Keys;

        public void Dispose()
        {
            foreach (var t in inner.Values)
            {
                t.Dispose();
            }
        }
    }
}

[CollectionDefinition(CheckpointDownloadTests.Name, DisableParallelization = true)]
public sealed class CheckpointExportsAlone;
