using static TorchSharp.torch;

namespace AunceSearch.Training.Loss;

/// <summary>The reference's weighted cross-entropy (aunce-reference §3.1, <c>au_softmax_loss</c>).</summary>
public static class WeightedCrossEntropy
{
    /// <summary>
    /// <paramref name="probs"/> (B, 2, C): per-AU 2-way softmax, index 0 = P(active), index 1 = P(inactive);
    /// labels (B, C) 0/1; weights (C). Returns mean over B·C of −w_c·[y·log max(P_act, 1e-3) + (1−y)·log max(P_inact, 1e-3)].
    /// </summary>
    public static Tensor Compute(Tensor probs, Tensor labels, Tensor weights)
    {
        using var scope = NewDisposeScope();
        var pAct = probs.select(1, 0).clamp_min(1e-3).log();
        var pInact = probs.select(1, 1).clamp_min(1e-3).log();
        var y = labels.to(probs.dtype);
        var loss = y.mul(pAct).add(y.neg().add(1).mul(pInact)).mul(weights.to(probs.dtype).unsqueeze(0)).neg();
        return loss.mean().MoveToOuterDisposeScope();
    }
}
