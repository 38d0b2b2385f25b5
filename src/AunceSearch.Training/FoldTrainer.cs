using System.Diagnostics;
using System.Globalization;
using AunceSearch.Training.Data;
using AunceSearch.Training.Evaluation;
using AunceSearch.Training.Loss;
using AunceSearch.Training.Models;
using AunceSearch.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training;

/// <summary>Everything one fold's training needs.</summary>
public sealed record FoldTrainingRequest
{
    /// <summary>Names the run in checkpoints and logs (e.g. "demo/t003/f1").</summary>
    public required string Label { get; init; }

    public required DatasetSource Dataset { get; init; }

    public ModelOptions Model { get; init; } = new();

    /// <summary>Hyperparameters by name (lr, weight_decay, batch_size, temperature, lambda_min, lambda_maj, p_max, p_aug, p_mix).</summary>
    public required IReadOnlyDictionary<string, string> Hyperparameters { get; init; }

    /// <summary>Train through this epoch (1-based).</summary>
    public required int Epochs { get; init; }

    public ProbeOptions Probe { get; init; } = new();

    public AugmentOptions Augment { get; init; } = new();

    public long Seed { get; init; }

    /// <summary>"cpu", "cuda" or "auto".</summary>
    public string Device { get; init; } = "auto";

    /// <summary>A checkpoint to resume from (training continues at its epoch + 1).</summary>
    public byte[]? ResumeFrom { get; init; }
}

/// <summary>One finished epoch.</summary>
public sealed record EpochResult(int Epoch, double TrainLoss, AuMetrics Metrics, int Steps, double Seconds);

/// <summary>
/// Trains one fold synchronously: call it on a dedicated thread (dispose scopes are thread-static), never on an
/// Orleans scheduler thread. Each epoch: two independently augmented views per image, two forward passes, the
/// AUNCE loss, AdamW; then a linear probe on frozen features gives per-AU F1/accuracy on the fold's test split;
/// then a checkpoint (model + optimizer) is handed to <c>onEpoch</c>. Cancellation is checked before every step.
/// </summary>
public static class FoldTrainer
{
    public static void Run(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
    {
        TorchRuntime.EnsureInitialized();
        var device = TorchRuntime.ResolveDevice(request.Device);
        var hp = Hyper.From(request.Hyperparameters);
        var data = AuFoldData.Load(request.Dataset);
        var auCount = data.AuNames.Count;
        var lossOptions = new AunceLossOptions
        {
            Temperature = hp.Temperature,
            LambdaMin = hp.LambdaMin,
            LambdaMaj = hp.LambdaMaj,
            PMax = hp.PMax,
            PAug = hp.PAug,
            PMix = hp.PMix,
        };

        SmallCnnEncoder model;
        lock (TorchRuntime.GlobalRngLock)
        {
            torch.random.manual_seed(request.Seed);
            model = EncoderFactory.Create(request.Model, auCount);
        }

        using var _ = model;
        model.to(device);
        using var optimizer = torch.optim.AdamW(model.parameters(), hp.Lr, weight_decay: hp.WeightDecay);
        var startEpoch = 1;
        if (request.ResumeFrom is { } resume)
        {
            var header = Checkpoint.Restore(resume, request.Label, model, optimizer);
            startEpoch = header.Epoch + 1;
        }

        var augmenter = new TwoViewAugmenter(request.Augment);
        var trainOccurrence = data.Train.OccurrenceRates();
        var n = data.TrainImages.shape[0];
        for (var epoch = startEpoch; epoch <= request.Epochs; epoch++)
        {
            var watch = Stopwatch.StartNew();
            var rng = new Random(unchecked((int)((request.Seed * 1_000_003L) ^ (epoch * 7_919L))));   // stable across processes (HashCode is not)
            using var generator = new Generator((ulong)(request.Seed * 1_000_003L) + (ulong)epoch);
            model.train();
            double lossSum = 0;
            var steps = 0;
            using (var epochScope = NewDisposeScope())
            {
                var order = torch.randperm(n, generator: generator);
                for (long start = 0; start < n; start += hp.BatchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var step = NewDisposeScope();
                    var idx = order.narrow(0, start, Math.Min(hp.BatchSize, n - start));
                    if (idx.shape[0] < 2)
                    {
                        continue; // one sample cannot form a batch-norm batch of its own
                    }

                    var images = data.TrainImages.index_select(0, idx).to(device);
                    var labels = data.TrainLabels.index_select(0, idx).to(device);
                    var v1 = augmenter.View(images, generator);
                    var v2 = augmenter.View(images, generator);
                    var z1 = model.forward(v1);
                    var z2 = model.forward(v2);
                    var types = lossOptions.DrawPositiveTypes(auCount, rng);
                    var loss = AunceLoss.Compute(z1, z2, labels, types, lossOptions);
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                    lossSum += loss.item<float>();
                    steps++;
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            var metrics = Evaluate(model, data, trainOccurrence, request.Probe, device, request.Seed + epoch);
            var result = new EpochResult(epoch, steps == 0 ? double.NaN : lossSum / steps, metrics, steps, watch.Elapsed.TotalSeconds);
            var checkpoint = Checkpoint.Write(new CheckpointHeader
            {
                Label = request.Label,
                Epoch = epoch,
                Seed = request.Seed,
                AuNames = data.AuNames,
                Model = request.Model,
                Hyperparameters = request.Hyperparameters,
                MeanF1 = metrics.MeanF1,
                MeanAccuracy = metrics.MeanAccuracy,
            }, model, optimizer);
            onEpoch(result, checkpoint);
        }
    }

    /// <summary>Encodes both splits with the encoder in eval mode and runs the linear probe.</summary>
    public static AuMetrics Evaluate(SmallCnnEncoder model, AuFoldData data, IReadOnlyList<double> trainOccurrence, ProbeOptions probe, Device device, long seed)
    {
        model.eval();
        using var scope = NewDisposeScope();
        Tensor trainFeatures, testFeatures;
        using (torch.no_grad())
        {
            trainFeatures = Encode(model, data.TrainImages, device);
            testFeatures = Encode(model, data.TestImages, device);
        }

        return LinearProbe.Evaluate(trainFeatures, data.TrainLabels.to(device), testFeatures, data.Test.Labels,
            data.AuNames, trainOccurrence, probe, seed);
    }

    private static Tensor Encode(SmallCnnEncoder model, Tensor images, Device device)
    {
        var chunks = new List<Tensor>();
        for (long s = 0; s < images.shape[0]; s += 256)
        {
            var x = AuImages.Normalize(images.narrow(0, s, Math.Min(256, images.shape[0] - s)).to(device));
            chunks.Add(model.forward(x));
        }

        return torch.cat(chunks, 0);
    }

    private sealed record Hyper(double Lr, double WeightDecay, int BatchSize, double Temperature, double LambdaMin, double LambdaMaj, double PMax, double PAug, double PMix)
    {
        public static Hyper From(IReadOnlyDictionary<string, string> h)
        {
            double D(string k, double d) => h.TryGetValue(k, out var s) ? double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture) : d;
            var hyper = new Hyper(D("lr", 1e-3), D("weight_decay", 1e-6), (int)D("batch_size", 32), D("temperature", 0.5),
                D("lambda_min", 1.2), D("lambda_maj", 0.8), D("p_max", 0.2), D("p_aug", 0.2), D("p_mix", 0.6));
            if (hyper.Lr <= 0 || hyper.Temperature <= 0 || hyper.LambdaMin < 0 || hyper.LambdaMaj < 0 || hyper.BatchSize < 2 ||
                Math.Abs(hyper.PMax + hyper.PAug + hyper.PMix + D("p_min", 0) - 1) > 1e-6)
            {
                throw new ArgumentException($"invalid hyperparameters: {string.Join(", ", h.Select(kv => $"{kv.Key}={kv.Value}"))}");
            }

            return hyper;
        }
    }
}
