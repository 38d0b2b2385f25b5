using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Loss;

/// <summary>The reference's weighted cross-entropy (aunce-reference §3.1, <c>au_softmax_loss</c>).</summary>
public static class WeightedCrossEntropy
{
    /// <summary>
    /// <paramref name="probs"/> (B, 2, C): per-AU 2-way softmax, index 0 = P(active), index 1 = P(inactive);
    /// labels (B, C) 0/1; weights (C). Returns mean over B·C of −w_c·[y·log max(P_act, 1e-3) + (1−y)·log max(P_inact, 1e-3)].
    /// </summary>
    public static Tensor Compute(Tensor probs, Tensor labels, Tensor weights) => Compute(probs, labels, weights, weights);

    /// <summary>
    /// The same cross-entropy with a weight per AU and class: mean over B·C of
    /// −[w⁺_c·y·log max(P_act, 1e-3) + w⁻_c·(1−y)·log max(P_inact, 1e-3)]. The reference's form is w⁺ = w⁻ = w_c; the
    /// class-balanced form uses <see cref="ClassBalancedWeights"/>.
    /// </summary>
    public static Tensor Compute(Tensor probs, Tensor labels, Tensor activeWeights, Tensor inactiveWeights)
    {
        using var scope = NewDisposeScope();
        var y = labels.to(probs.dtype);
        var active = probs.select(1, 0).clamp_min(1e-3).log().mul(y).mul(activeWeights.to(probs.dtype).unsqueeze(0));
        var inactive = probs.select(1, 1).clamp_min(1e-3).log().mul(y.neg().add(1)).mul(inactiveWeights.to(probs.dtype).unsqueeze(0));
        return active.add(inactive).neg().mean().MoveToOuterDisposeScope();
    }

    /// <summary>Per-AU weights of the active and inactive class, 1 / 2r and 1 / 2(1 − r), from training occurrence rates r.</summary>
    public static (Tensor Active, Tensor Inactive) ClassBalancedWeights(IReadOnlyList<double> trainOccurrence, Device device)
    {
        var rates = trainOccurrence.Select(r => Math.Clamp(r, 1e-3, 1 - 1e-3)).ToArray();
        return (torch.tensor(rates.Select(r => (float)(0.5 / r)).ToArray(), device: device),
                torch.tensor(rates.Select(r => (float)(0.5 / (1 - r))).ToArray(), device: device));
    }
}
