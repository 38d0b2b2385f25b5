using AunceSearch.Model;
using AunceSearch.Training.Data;
using AunceSearch.Training.Models;
using TorchSharp;

namespace AunceSearch.Training.Tests;

public class FoldTrainerTests
{
    private static readonly Lazy<string> Dataset = new(() =>
    {
        var root = Path.Combine(TestPaths.TempDirectory(), "syn");
        SyntheticAuFaces.Generate(root, new SyntheticOptions { Subjects = 6, ImagesPerSubject = 16, ImageSize = 32, Folds = 2, OccurrenceRates = [0.3, 0.5, 0.2, 0.6] });
        return root;
    });

    private static FoldTrainingRequest Request(int epochs, byte[]? resume = null) => new()
    {
        Label = "test/t0/f1",
        Dataset = new DatasetSource { Root = Dataset.Value, ListName = "SYN", Fold = 1, ImageSize = 24 },
        Model = new ModelOptions { Width = 4, FeatureDim = 8 },
        Hyperparameters = new Dictionary<string, string> { ["lr"] = "0.003", ["batch_size"] = "16" },
        Epochs = epochs,
        Probe = new() { Steps = 10 },
        Seed = 7,
        Device = TrainingDevice.Cpu,
        ResumeFrom = resume,
    };

    [Fact]
    public void A_fold_that_runs_out_of_memory_fails_naming_the_settings_that_decide_its_memory()
    {
        // A feature size whose head the allocator refuses at once (nothing is allocated).
        // 4 AUs x (2^29 - 1) features from 32 inputs: a 256 GB head, more than this or any CI or GPU machine here has.
        var request = Request(1) with { Model = new ModelOptions { Width = 4, FeatureDim = (1 << 29) - 1 } };
        var e = Assert.Throws<TrainingOutOfMemoryException>(() => FoldTrainer.Run(request, (_, _) => { }, CancellationToken.None));
        Assert.StartsWith("test/t0/f1: out of host memory (batch size 16, encoder small-cnn): lower training.batch_size", e.Message);
        Assert.Contains("Aunce:Training:Slots", e.Message);
        Assert.Contains("Aunce:Training:ImageCacheMiB", e.Message);
        Assert.Contains("can't allocate memory", e.Message);

        var gpu = FoldTrainer.OutOfMemory(request with { Device = TrainingDevice.Cuda, DeviceIndex = 3 },
            new System.Runtime.InteropServices.ExternalException("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 3; 79.11 GiB total capacity)\nmore"));
        Assert.StartsWith("test/t0/f1: out of GPU memory on cuda:3 (batch size 16, encoder small-cnn): lower training.batch_size", gpu.Message);
        Assert.Contains("Aunce:Training:TrialsPerDevice", gpu.Message);
        Assert.EndsWith("Tried to allocate 2.00 GiB (GPU 3; 79.11 GiB total capacity)", gpu.Message);
        Assert.False(FoldTrainer.IsOutOfMemory(new InvalidOperationException("out of memory")));   // only allocator failures
    }

    [Fact]
    public void The_checkpoint_size_estimate_is_within_a_few_percent_of_a_real_checkpoint()
    {
        // What sweep validate and the pre-flight space check multiply by the checkpoints a sweep keeps.
        var model = new ModelOptions { Encoder = "resnet18", Width = 16, FeatureDim = 16 };
        var results = new List<byte[]>();
        FoldTrainer.Run(Request(1) with { Model = model }, (_, c) => results.Add(c), CancellationToken.None);
        var real = Assert.Single(results).LongLength;
        var footprint = ModelFootprint.Of(model with { InputSize = 24 }, 4);
        Assert.InRange(footprint.CheckpointBytes, real * 0.97, real * 1.10);
        Assert.True(footprint.Parameters > 500_000, $"{footprint.Parameters} parameters");

        // torchvision's ResNet-50 without its classifier has 23,508,032 parameters; the ANFL head comes on top.
        var resnet50 = ModelFootprint.Of(new ModelOptions { Encoder = "resnet50", FeatureDim = 1024, InputSize = 224 }, 12);
        Assert.InRange(resnet50.Parameters, 23_508_032, 60_000_000);   // 40.3 M with D = 1024 and 12 AUs
        Assert.InRange(resnet50.CheckpointBytes, 3L * 4 * resnet50.Parameters, 3L * 4 * resnet50.Parameters * 1.01);
    }

    [Fact]
    public void Trains_epochs_reports_metrics_and_checkpoints_that_load_and_resume()
    {
        var results = new List<(EpochResult Result, byte[] Checkpoint)>();
        FoldTrainer.Run(Request(2), (r, c) => results.Add((r, c)), CancellationToken.None);
        Assert.Equal([1, 2], results.Select(r => r.Result.Epoch));
        Assert.All(results, r =>
        {
            Assert.True(double.IsFinite(r.Result.TrainLoss) && r.Result.TrainLoss > 0);
            Assert.InRange(r.Result.Metrics.MeanF1, 0, 1);
            Assert.Equal(4, r.Result.Metrics.F1.Length);
        });

        var (header, encoder) = Checkpoint.LoadEncoder(results[1].Checkpoint, "epoch2");
        using (encoder)
        {
            Assert.Equal(2, header.Epoch);
            Assert.Equal(4, Assert.IsType<SmallCnnEncoder>(encoder).AuCount);
        }

        var resumed = new List<EpochResult>();
        FoldTrainer.Run(Request(3, results[1].Checkpoint), (r, _) => resumed.Add(r), CancellationToken.None);
        Assert.Equal([3], resumed.Select(r => r.Epoch));
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed()
    {
        var a = new List<EpochResult>();
        var b = new List<EpochResult>();
        FoldTrainer.Run(Request(1), (r, _) => a.Add(r), CancellationToken.None);
        FoldTrainer.Run(Request(1), (r, _) => b.Add(r), CancellationToken.None);
        Assert.Equal(a[0].TrainLoss, b[0].TrainLoss);
        Assert.Equal(a[0].Metrics.F1, b[0].Metrics.F1);
    }

    [Fact]
    public void Cancellation_stops_within_one_step()
    {
        using var cts = new CancellationTokenSource();
        var epochs = 0;
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => FoldTrainer.Run(Request(3), (_, _) => epochs++, cts.Token));
        Assert.Equal(0, epochs);
    }

    [Fact]
    public void Cancellation_during_training_stops_before_the_next_epoch_completes()
    {
        using var cts = new CancellationTokenSource();
        var epochs = new List<int>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() => FoldTrainer.Run(Request(20), (r, _) =>
        {
            epochs.Add(r.Epoch);
            cts.Cancel();   // the trainer checks the token before every step
        }, cts.Token));
        Assert.Equal([1], epochs);
    }

    [Fact]
    public void A_corrupt_checkpoint_is_rejected_with_its_name()
    {
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadHeader([1, 2, 3], "bad.ckpt"));
        Assert.Contains("bad.ckpt", e.Message);
    }

    [Fact]
    public void A_checkpoint_of_another_width_names_the_tensor_both_shapes_and_the_setting()
    {
        var narrow = new ModelOptions { Encoder = "resnet18", Width = 4, FeatureDim = 8, InputSize = 32 };
        byte[] data;
        using (var model = EncoderFactory.Create(narrow, 3))
        {
            data = Checkpoint.Write(new CheckpointHeader
            {
                Label = "w4", Epoch = 1, Seed = 1, AuNames = ["AU1", "AU2", "AU4"], Model = narrow,
                Hyperparameters = new Dictionary<string, string>(),
            }, model, (Action<BinaryWriter>?)null);
        }

        // The parser reads every tensor of a real checkpoint and nothing is left over.
        var (header, tensors) = Checkpoint.Inspect(data, "w4.ckpt");
        Assert.Equal(1, header.Epoch);
        Assert.Contains(tensors, t => t.Name == "backbone.conv1.weight" && t.Shape.SequenceEqual(new long[] { 4, 3, 7, 7 }));

        var wide = narrow with { Width = 8 };
        using var other = EncoderFactory.Create(wide, 3);
        var e = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Restore(data, "w4.ckpt", other, (Action<BinaryReader>?)null));
        Assert.Contains("w4.ckpt: does not fit the model: tensor backbone.conv1.weight has shape [4, 3, 7, 7] in the checkpoint but [8, 3, 7, 7]", e.Message);
        e = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.CheckFits(data, "w4.ckpt", other, wide));
        Assert.Contains("the checkpoint was trained with model.width 4 (now 8)", e.Message);

        // Every truncation of it is reported as such, never loaded.
        foreach (var cut in new[] { 5, 20, data.Length / 3, data.Length - 1 })
        {
            Assert.Throws<InvalidDataException>(() => Checkpoint.Inspect(data[..cut], "cut.ckpt"));
        }
    }

    [Fact]
    public void Gradient_clipping_bounds_the_global_norm_and_leaves_small_gradients_alone()
    {
        using var layer = torch.nn.Linear(4, 3);
        var parameters = layer.parameters().ToList();
        using (torch.no_grad())
        {
            parameters[0].grad = torch.full([3, 4], 2.0f);   // norm sqrt(12 * 4) = 6.93
            parameters[1].grad = torch.full([3], 2.0f);      // norm sqrt(3 * 4) = 3.46; together sqrt(60) = 7.75
        }

        Assert.Equal(Math.Sqrt(60), FoldTrainer.ClipGradients(parameters, 1.0), 4);
        var clipped = Math.Sqrt(parameters.Sum(p => p.grad!.pow(2).sum().item<float>()));
        Assert.Equal(1.0, clipped, 3);
        Assert.Equal(1.0, FoldTrainer.ClipGradients(parameters, 5.0), 3);   // under the bound: unchanged
        Assert.Equal(clipped, Math.Sqrt(parameters.Sum(p => p.grad!.pow(2).sum().item<float>())), 5);
    }

    [Fact]
    public void A_clipped_run_trains_differently_from_an_unclipped_one_and_deterministically()
    {
        var plain = new List<EpochResult>();
        var clipped = new List<EpochResult>();
        var again = new List<EpochResult>();
        FoldTrainer.Run(Request(1), (r, _) => plain.Add(r), CancellationToken.None);
        var tight = Request(1) with { Hyperparameters = new Dictionary<string, string>(Request(1).Hyperparameters) { ["grad_clip"] = "1e-6" } };
        FoldTrainer.Run(tight, (r, _) => clipped.Add(r), CancellationToken.None);
        FoldTrainer.Run(tight, (r, _) => again.Add(r), CancellationToken.None);
        Assert.NotEqual(plain[0].TrainLoss, clipped[0].TrainLoss);
        Assert.Equal(clipped[0].TrainLoss, again[0].TrainLoss);
    }
}

public class FoldTrainerModesTests
{
    private static readonly Lazy<string> Dataset = new(() =>
    {
        var root = Path.Combine(TestPaths.TempDirectory(), "syn");
        SyntheticAuFaces.Generate(root, new SyntheticOptions { Subjects = 4, ImagesPerSubject = 12, ImageSize = 32, Folds = 2, OccurrenceRates = [0.3, 0.7, 0.2, 0.6] });
        return root;
    });

    public static TheoryData<string, string> Configurations => new()
    {
        { "resnet18", "objective=aunce" },
        { "swin-t", "positives=paper;p_max=0.25;p_aug=0.25;p_mix=0.25;p_min=0.25;lambda_assignment=frequency;au_weight=on" },
        { "resnet18", "objective=wce;optimizer=adamw" },
        { "small-cnn", "probe_encoder=train;channels_last=on" },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Every_encoder_and_mode_trains_checkpoints_and_resumes(string encoder, string settings)
    {
        var hp = settings.Split(';').Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
        hp["batch_size"] = "8";
        hp["lr"] = "0.003";
        FoldTrainingRequest Request(int epochs, byte[]? resume) => new()
        {
            Label = $"modes/{encoder}",
            Dataset = new DatasetSource { Root = Dataset.Value, ListName = "SYN", Fold = 1, ImageSize = 32, CropSize = 32 },
            Model = new ModelOptions { Encoder = encoder, Width = 4, FeatureDim = 8, EmbedDim = 8, Depths = [2, 2, 1, 1], Heads = [1, 2, 2, 4], Window = 2 },
            Hyperparameters = hp,
            Epochs = epochs,
            Probe = new() { Steps = 5 },
            Seed = 3,
            Device = TrainingDevice.Cpu,
            ResumeFrom = resume,
        };
        var results = new List<(EpochResult Result, byte[] Checkpoint)>();
        FoldTrainer.Run(Request(1, null), (r, c) => results.Add((r, c)), CancellationToken.None);
        var first = Assert.Single(results);
        Assert.True(double.IsFinite(first.Result.TrainLoss) && first.Result.TrainLoss > 0);
        Assert.Equal(4, first.Result.Metrics.F1.Length);
        var header = Checkpoint.ReadHeader(first.Checkpoint, "e1");
        Assert.Equal(encoder, header.Model.Encoder);
        Assert.Equal(32, header.Model.InputSize);
        FoldTrainer.Run(Request(2, first.Checkpoint), (r, c) => results.Add((r, c)), CancellationToken.None);
        Assert.Equal([1, 2], results.Select(r => r.Result.Epoch));
    }

    [Theory]
    [InlineData("positives", "sideways", "positives")]
    [InlineData("p_min", "0.2", "sum to 1")]
    [InlineData("lr", "fast", "lr")]
    [InlineData("grad_clip", "-1", "grad_clip: must be >= 0")]
    public void Bad_settings_fail_before_training_with_the_key_named(string key, string value, string message)
    {
        var hp = new Dictionary<string, string> { [key] = value };
        var e = Assert.Throws<ArgumentException>(() => TrainingSettings.From(hp));
        Assert.Contains(message, e.Message);
    }
}
