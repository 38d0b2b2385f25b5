using AunceSearch.Training.Loss;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AunceSearch.Training.Evaluation;

/// <summary>Linear-evaluation settings.</summary>
public sealed record ProbeOptions
{
    /// <summary>Full-batch Adam steps on the frozen features.</summary>
    public int Steps { get; init; } = 60;

    public double LearningRate { get; init; } = 0.05;

    public double WeightDecay { get; init; } = 1e-6;

    /// <summary>Compute the probe's features with the encoder in train mode (the reference's quirk: batch statistics, drop path on).</summary>
    public bool EncoderTrainMode { get; init; }

    /// <summary>
    /// Weight each AU's active and inactive training examples by the inverse of their training frequency (1 / 2r and
    /// 1 / 2(1 − r)), so that P(active) ≥ 0.5 is the balanced decision (default). Off: the reference's weighted
    /// cross-entropy with per-AU weights w_i only, whose 0.5 threshold is the accuracy-optimal one — on an AU active in 15 %
    /// of the frames it predicts "inactive" for every ambiguous frame, which the F1 of the active class punishes.
    /// </summary>
    public bool ClassBalanced { get; init; } = true;
}

/// <summary>
/// The reference's linear evaluation (aunce-reference §3.2) on frozen encoder features: per AU a Linear(D, 2) on that AU's
/// unit feature, softmax over the two classes (index 0 = active); prediction = P(active) ≥ 0.5. Trained by default with a
/// class-balanced cross-entropy (<see cref="ProbeOptions.ClassBalanced"/>), or exactly as the reference with the weighted
/// cross-entropy of per-AU occurrence weights. Differences from the reference, for speed in sweeps: full-batch Adam for
/// <see cref="ProbeOptions.Steps"/> steps on features computed once with the encoder in eval mode (the reference trains
/// 100 epochs with the encoder in train mode, its quirk).
/// </summary>
public static class LinearProbe
{
    public static AuMetrics Evaluate(Tensor trainFeatures, Tensor trainLabels, Tensor testFeatures, float[,] testLabels,
        IReadOnlyList<string> auNames, IReadOnlyList<double> trainOccurrence, ProbeOptions options, long seed)
    {
        var c = trainFeatures.shape[1];
        var d = trainFeatures.shape[2];
        var device = trainFeatures.device;
        using var outer = NewDisposeScope();
        var gen = new Generator((ulong)seed, device);
        var weight = new Parameter(torch.randn([c, d, 2], generator: gen, device: device).mul_(0.01));
        var bias = new Parameter(torch.zeros([c, 1, 2], device: device));
        var auWeights = torch.tensor(AunceLoss.AuWeights(trainOccurrence).Select(v => (float)v).ToArray(), device: device);
        var xTrain = trainFeatures.detach().permute(1, 0, 2).contiguous();   // (C, N, D)
        var xTest = testFeatures.detach().permute(1, 0, 2).contiguous();
        var (positiveWeights, negativeWeights) = options.ClassBalanced ? WeightedCrossEntropy.ClassBalancedWeights(trainOccurrence, device) : (null, null);
        using var optimizer = torch.optim.Adam([weight, bias], options.LearningRate, weight_decay: options.WeightDecay);
        for (var step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var probs = Probabilities(xTrain, weight, bias);
            var loss = options.ClassBalanced
                ? WeightedCrossEntropy.Compute(probs, trainLabels, positiveWeights!, negativeWeights!)
                : WeightedCrossEntropy.Compute(probs, trainLabels, auWeights);
            loss.backward();
            optimizer.step();
        }

        using (torch.no_grad())
        {
            var pActive = Probabilities(xTest, weight, bias).select(1, 0).cpu();   // (N, C)
            return AuMetrics.Compute(auNames, ToGrid(pActive), testLabels);
        }
    }

    /// <summary>A (N, C) float tensor on the CPU as a [N, C] array.</summary>
    public static float[,] ToGrid(Tensor pActive)
    {
        using var contiguous = pActive.contiguous();
        var n = (int)contiguous.shape[0];
        var c = (int)contiguous.shape[1];
        var flat = contiguous.data<float>().ToArray();
        var p = new float[n, c];
        Buffer.BlockCopy(flat, 0, p, 0, flat.Length * sizeof(float));
        return p;
    }

    /// <summary>(C, N, D) features → (N, 2, C) class probabilities.</summary>
    private static Tensor Probabilities(Tensor x, Tensor weight, Tensor bias) =>
        x.bmm(weight).add(bias).permute(1, 2, 0).softmax(1);
}
