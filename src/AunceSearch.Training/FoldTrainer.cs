using System.Diagnostics;
using AunceSearch.Model;
using AunceSearch.Training.Data;
using AunceSearch.Training.Evaluation;
using AunceSearch.Training.Loss;
using AunceSearch.Training.Models;
using AunceSearch.Training.Optim;
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

    /// <summary>Where the fold trains.</summary>
    public TrainingDevice Device { get; init; } = TrainingDevice.Auto;

    /// <summary>Which CUDA device ("cuda:N") when training on CUDA: the slot the fold was given. Ignored on the CPU.</summary>
    public int DeviceIndex { get; init; }

    /// <summary>A checkpoint to resume from (training continues at its epoch + 1).</summary>
    public byte[]? ResumeFrom { get; init; }
}

/// <summary>
/// Training diverged: a non-finite loss, feature or metric. The fold (and so its trial) fails with this message; the epoch's
/// checkpoint is never written, so no NaN model becomes a result.
/// </summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// A fold ran out of memory (host or GPU): the message names the fold, its batch size and device, and the settings that
/// decide its memory, so that a trial fails with what to change instead of an allocator's stack.
/// </summary>
public sealed class TrainingOutOfMemoryException(string message, Exception inner) : Exception(message, inner);

/// <summary>One finished epoch.</summary>
/// <param name="Skipped">Data entries skipped so far (bad rows, missing or corrupt images) when the dataset opts in to skipping.</param>
/// <param name="Baseline">The trivial baselines of the fold's test split (all-active F1, majority-class accuracy), to read the metrics against.</param>
public sealed record EpochResult(int Epoch, double TrainLoss, AuMetrics Metrics, int Steps, double Seconds, int Skipped = 0, AuBaselines? Baseline = null);

/// <summary>
/// Trains one fold synchronously: call it on a dedicated thread (dispose scopes are thread-static), never on an
/// Orleans scheduler thread. Objective <c>aunce</c>: each step two independently augmented views, two forward passes, the
/// AUNCE loss; after each epoch a linear probe on frozen features gives per-AU F1/accuracy on the fold's test split.
/// Objective <c>wce</c>: the reference's baseline — encoder + per-AU classifier trained with the weighted cross-entropy on
/// one view, evaluated by its own predictions. Then a checkpoint (model + optimizer) is handed to <c>onEpoch</c>.
/// Cancellation is checked before every step.
/// </summary>
public static class FoldTrainer
{
    public static void Run(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
    {
        try
        {
            Train(request, onEpoch, cancellationToken);
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            throw OutOfMemory(request, e);
        }
    }

    /// <summary>libtorch's allocator failures (host: "DefaultCPUAllocator: can't allocate memory"; CUDA: "CUDA out of memory") and .NET's own.</summary>
    public static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException or InsufficientExecutionStackException
        || (e is System.Runtime.InteropServices.ExternalException
            && (e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("can't allocate memory", StringComparison.Ordinal)));

    /// <summary>The fold's out-of-memory failure, naming what decides its memory on its device.</summary>
    public static TrainingOutOfMemoryException OutOfMemory(FoldTrainingRequest request, Exception e)
    {
        var gpu = e.Message.Contains("CUDA", StringComparison.Ordinal) || request.Device == TrainingDevice.Cuda;
        var batch = request.Hyperparameters.TryGetValue("batch_size", out var b) ? b : "the default";
        var advice = gpu
            ? "lower training.batch_size (or its search range), or Aunce:Training:TrialsPerDevice so that fewer folds share a GPU"
            : "lower training.batch_size (or its search range), Aunce:Training:Slots (folds training at once on this silo), or the decoded images kept "
              + "(Aunce:Training:ImageCacheMiB, or dataset.cache: stream)";
        return new TrainingOutOfMemoryException(
            $"{request.Label}: out of {(gpu ? $"GPU memory on cuda:{request.DeviceIndex}" : "host memory")} (batch size {batch}, encoder {request.Model.Encoder}): {advice}. " +
            $"The allocator said: {e.Message.Split('\n')[0].Trim()}", e);
    }

    private static void Train(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
    {
        TorchRuntime.EnsureInitialized();
        var device = TorchRuntime.ResolveDevice(request.Device, request.DeviceIndex);
        var settings = TrainingSettings.From(request.Hyperparameters);
        using var dataLease = AuFoldData.Open(request.Dataset);
        var data = dataLease.Data;
        var auCount = data.AuNames.Count;
        var lossOptions = settings.Loss;
        var crop = request.Dataset.EffectiveCrop;
        if (crop > request.Dataset.ImageSize)
        {
            throw new ArgumentException($"dataset.crop_size {crop} is larger than dataset.image_size {request.Dataset.ImageSize}");
        }

        var augmenter = new TwoViewAugmenter(request.Augment, crop);
        var modelOptions = request.Model with { InputSize = crop };
        var wce = settings.Objective == "wce";

        torch.nn.Module<Tensor, Tensor> model;
        WceClassifier? classifier = null;
        lock (TorchRuntime.GlobalRngLock)
        {
            torch.random.manual_seed(request.Seed);
            model = EncoderFactory.Create(modelOptions, auCount);
            if (wce)
            {
                classifier = new WceClassifier(auCount, modelOptions.FeatureDim);
            }
        }

        using var _ = model;
        using var __ = classifier;
        if (device.type == DeviceType.CPU && TorchRuntime.VerifyCpuKernels(CpuKernelCheck.CasesFor(model, settings.ChannelsLast)) is { Usable: false } kernels)
        {
            throw new InvalidOperationException(kernels.Describe());
        }

        if (request.ResumeFrom is null && modelOptions.Pretrained is { } pretrained)
        {
            if (model is not AuEncoder encoder)
            {
                throw new ArgumentException($"model.pretrained: the {modelOptions.Encoder} encoder has no pretrained backbone (use a resnet or swin encoder)");
            }

            SafeTensors.LoadBackbone(encoder.Backbone, pretrained);
        }

        // Weights first, in the module's own layout; the optimizer's state once the optimizer exists.
        var startEpoch = 1;
        if (request.ResumeFrom is { } resumeWeights)
        {
            startEpoch = Checkpoint.Restore(resumeWeights, request.Label, model, null, classifier).Epoch + 1;
        }

        model.to(device);
        classifier?.to(device);
        if (settings.ChannelsLast)
        {
            Accelerator.ToChannelsLast(model);
        }

        var parameters = model.parameters().Concat(classifier?.parameters() ?? []).ToList();
        var gradClip = settings.Number("grad_clip");   // Swin's recipe clips at 5; 0 = off
        Action? clip = gradClip > 0 ? () => ClipGradients(parameters, gradClip) : null;
        using var optimizer = new TrainingOptimizer(settings.FlatOptimizer ? "flat-adamw" : "adamw", parameters, settings.Lr, settings.WeightDecay, settings.ChannelsLast);
        if (request.ResumeFrom is { } resume)
        {
            Checkpoint.RestoreOptimizer(resume, request.Label, r => optimizer.Load(r, request.Label));
        }

        var trainOccurrence = data.Train.OccurrenceRates();
        using var auWeights = torch.tensor(AunceLoss.AuWeights(trainOccurrence).Select(v => (float)v).ToArray(), device: device);
        using var minority = torch.tensor(AunceLoss.MinorityLabels(trainOccurrence), device: device);
        var (positiveWeights, negativeWeights) = wce && settings.ClassBalanced ? WeightedCrossEntropy.ClassBalancedWeights(trainOccurrence, device) : (null, null);
        using var _pw = positiveWeights;
        using var _nw = negativeWeights;
        var n = data.TrainImages.Count;
        var baseline = AuBaselines.Compute(data.AuNames, data.Test.Labels);
        for (var epoch = startEpoch; epoch <= request.Epochs; epoch++)
        {
            var watch = Stopwatch.StartNew();
            var rng = new Random(unchecked((int)((request.Seed * 1_000_003L) ^ (epoch * 7_919L))));   // stable across processes (HashCode is not)
            using var generator = new Generator((ulong)(request.Seed * 1_000_003L) + (ulong)epoch);
            using var deviceGenerator = device.type == DeviceType.CPU ? null : new Generator((ulong)(request.Seed * 1_000_003L) + (ulong)epoch, device);
            EncoderFactory.SetGenerator(model, deviceGenerator ?? generator);
            model.train();
            classifier?.train();
            double lossSum = 0;
            var steps = 0;
            using (var epochScope = NewDisposeScope())
            {
                var order = torch.randperm(n, generator: generator).data<long>().ToArray();
                foreach (var batch in data.TrainImages.Batches(order, settings.BatchSize, cancellationToken))
                {
                    using var batchImages = batch.Images;
                    using var batchLabels = batch.Labels;
                    cancellationToken.ThrowIfCancellationRequested();
                    using var step = NewDisposeScope();
                    if (batch.Indices.Length < 2)
                    {
                        continue; // one sample cannot form a batch-norm batch of its own
                    }

                    var images = batchImages.to(device);
                    var labels = batchLabels.to(device);
                    var v1 = augmenter.View(images, generator);
                    Tensor loss;
                    if (wce)
                    {
                        var probs = Forward(classifier!, Forward(model, v1, settings, device), settings, device).to(ScalarType.Float32);
                        loss = settings.ClassBalanced
                            ? WeightedCrossEntropy.Compute(probs, labels, positiveWeights!, negativeWeights!)
                            : WeightedCrossEntropy.Compute(probs, labels, auWeights);
                    }
                    else
                    {
                        var v2 = augmenter.View(images, generator);
                        var z1 = Forward(model, v1, settings, device).to(ScalarType.Float32);
                        var z2 = Forward(model, v2, settings, device).to(ScalarType.Float32);
                        var types = lossOptions.DrawPositiveTypes(auCount, rng);
                        loss = AunceLoss.Compute(z1, z2, labels, types, lossOptions, auWeights, minorityLabel: minority);
                    }

                    optimizer.Step(loss, clip);

                    var value = loss.item<float>();
                    steps++;
                    if (!float.IsFinite(value))
                    {
                        throw new TrainingDivergedException(
                            $"loss became {Describe(value)} at epoch {epoch}, step {steps} (lr {settings.Lr:G3}); no checkpoint of this epoch is kept");
                    }

                    lossSum += value;
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            var metrics = wce
                ? EvaluateClassifier(model, classifier!, data, augmenter, device, cancellationToken)
                : Evaluate(model, data, augmenter, trainOccurrence, request.Probe with { EncoderTrainMode = settings.ProbeEncoderTrainMode, ClassBalanced = settings.ClassBalanced }, device, request.Seed + epoch, cancellationToken);
            if (!double.IsFinite(metrics.MeanF1) || !double.IsFinite(metrics.MeanAccuracy))
            {
                throw new TrainingDivergedException($"the evaluation at epoch {epoch} gave a non-finite metric (F1 {metrics.MeanF1}, accuracy {metrics.MeanAccuracy}); no checkpoint of this epoch is kept");
            }

            var result = new EpochResult(epoch, steps == 0 ? double.NaN : lossSum / steps, metrics, steps, watch.Elapsed.TotalSeconds, data.Skipped.Count, baseline);
            var checkpoint = Checkpoint.Write(new CheckpointHeader
            {
                Label = request.Label,
                Epoch = epoch,
                Seed = request.Seed,
                AuNames = data.AuNames,
                Model = modelOptions,
                Hyperparameters = request.Hyperparameters,
                MeanF1 = metrics.MeanF1,
                MeanAccuracy = metrics.MeanAccuracy,
            }, model, optimizer.Save, classifier);
            onEpoch(result, checkpoint);
        }
    }

    private static string Describe(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";

    /// <summary>A forward pass with the configured layout and precision (channels_last input; bf16 autocast on CUDA).</summary>
    /// <summary>
    /// Scales every gradient so that their global L2 norm is at most <paramref name="maxNorm"/> (PyTorch's
    /// <c>clip_grad_norm_</c>, one fused norm over all gradients); returns the norm before clipping.
    /// </summary>
    internal static double ClipGradients(IList<TorchSharp.Modules.Parameter> parameters, double maxNorm) =>
        torch.nn.utils.clip_grad_norm_(parameters.Where(p => p.grad is not null), maxNorm);

    private static Tensor Forward(torch.nn.Module<Tensor, Tensor> module, Tensor x, TrainingSettings settings, Device device)
    {
        if (settings.ChannelsLast)
        {
            x = Accelerator.ChannelsLast(x);
        }

        using var autocast = settings.Bf16Autocast ? Accelerator.Autocast(device) : null;
        return module.forward(x);
    }

    /// <summary>Encodes both splits (centre crops; eval mode unless the probe asks for the reference's train-mode quirk) and runs the linear probe.</summary>
    public static AuMetrics Evaluate(torch.nn.Module<Tensor, Tensor> model, AuFoldData data, TwoViewAugmenter transform, IReadOnlyList<double> trainOccurrence,
        ProbeOptions probe, Device device, long seed, CancellationToken cancellationToken = default)
    {
        if (probe.EncoderTrainMode)
        {
            model.train();
        }
        else
        {
            model.eval();
        }

        using var scope = NewDisposeScope();
        (Tensor Features, long[] Kept) train, test;
        using (torch.no_grad())
        {
            train = Encode(model, data.TrainImages, transform, device, cancellationToken);
            test = Encode(model, data.TestImages, transform, device, cancellationToken);
        }

        using var kept = torch.tensor(train.Kept);
        return LinearProbe.Evaluate(train.Features, data.TrainLabels.index_select(0, kept).to(device), test.Features, TestLabels(data, test.Kept),
            data.AuNames, trainOccurrence, probe, seed);
    }

    /// <summary>The WCE baseline's own predictions on the test split: active iff P(active) ≥ 0.5 (aunce-reference §3.1).</summary>
    public static AuMetrics EvaluateClassifier(torch.nn.Module<Tensor, Tensor> model, WceClassifier classifier, AuFoldData data, TwoViewAugmenter transform,
        Device device, CancellationToken cancellationToken = default)
    {
        model.eval();
        classifier.eval();
        using var scope = NewDisposeScope();
        using var _ = torch.no_grad();
        var (features, kept) = Encode(model, data.TestImages, transform, device, cancellationToken);
        var pActive = classifier.forward(features).select(1, 0).to(ScalarType.Float32).cpu();   // (N, C)
        return AuMetrics.Compute(data.AuNames, LinearProbe.ToGrid(pActive), TestLabels(data, kept));
    }

    private static float[,] TestLabels(AuFoldData data, long[] kept) =>
        kept.Length == data.Test.Count ? data.Test.Labels : data.Test.Subset([.. kept.Select(k => (int)k)], []).Labels;

    /// <summary>Encodes a split in order (streamed or from memory); images that failed to decode (skip_bad) are left out.</summary>
    private static (Tensor Features, long[] Kept) Encode(torch.nn.Module<Tensor, Tensor> model, AuSplitImages images, TwoViewAugmenter transform,
        Device device, CancellationToken cancellationToken)
    {
        var chunks = new List<Tensor>();
        var kept = new List<long>();
        var order = Enumerable.Range(0, (int)images.Count).Select(i => (long)i).ToArray();
        foreach (var batch in images.Batches(order, 256, cancellationToken))
        {
            using var pixels = batch.Images;
            using var labels = batch.Labels;
            using var x = pixels.to(device);
            chunks.Add(model.forward(transform.CenterCrop(x)).to(ScalarType.Float32));
            kept.AddRange(batch.Indices);
        }

        var features = torch.cat(chunks, 0);
        if (!torch.isfinite(features).all().item<bool>())
        {
            throw new TrainingDivergedException("the encoder's features became NaN or Inf (the weights diverged); no checkpoint of this epoch is kept");
        }

        return (features, [.. kept]);
    }
}
