using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AunceSearch.Training.Loss;

/// <summary>Which positive an AU uses in one batch (aunce-reference §1.3).</summary>
public enum PositiveType
{
    /// <summary>Highest same-label exp-score, self included (code 0).</summary>
    Max = 0,

    /// <summary>Sum of same-label exp-scores over all 2B columns / 2B (code 1).</summary>
    Mix = 1,

    /// <summary>Exp-score with the anchor's other augmented view (code 2).</summary>
    Aug = 2,
}

/// <summary>AUNCE loss parameters.</summary>
public sealed record AunceLossOptions
{
    public double Temperature { get; init; } = 0.5;

    /// <summary>λ for negatives of minority-class (label 1) anchors; reference 1.2.</summary>
    public double LambdaMin { get; init; } = 1.2;

    /// <summary>λ for negatives of majority-class (label 0) anchors; reference HEAD 0.8.</summary>
    public double LambdaMaj { get; init; } = 0.8;

    /// <summary>Positive-pair probabilities; reference 0.2 / 0.2 / 0.6 (MAX / AUG / MIX).</summary>
    public double PMax { get; init; } = 0.2;

    public double PAug { get; init; } = 0.2;

    public double PMix { get; init; } = 0.6;

    /// <summary>Multiply each AU's loss by its weight w_i (reference HEAD: off).</summary>
    public bool UseAuWeight { get; init; }

    /// <summary>One uniform per AU per batch → positive type: u &lt; p_max → MAX, u &lt; p_max + p_mix → MIX, else AUG.</summary>
    public PositiveType[] DrawPositiveTypes(int auCount, Random random)
    {
        var types = new PositiveType[auCount];
        for (var k = 0; k < auCount; k++)
        {
            var u = random.NextDouble();
            types[k] = u < PMax ? PositiveType.Max : u < PMax + PMix ? PositiveType.Mix : PositiveType.Aug;
        }

        return types;
    }
}

/// <summary>
/// The AUNCE contrastive loss exactly as the reference code computes it (aunce-reference §1), vectorised over
/// AUs, anchors and columns and evaluated in log space (log-sum-exp), so that no temperature or λ overflows.
/// </summary>
public static class AunceLoss
{
    private const double Masked = -1e9;

    /// <summary>
    /// Loss for unit-norm features <paramref name="z1"/>, <paramref name="z2"/> of shape (B, C, D) (the two views),
    /// 0/1 labels (B, C), one positive type per AU, optional per-AU weights (C). Returns a scalar and, if asked,
    /// the per-AU losses (C).
    /// </summary>
    public static Tensor Compute(Tensor z1, Tensor z2, Tensor labels, IReadOnlyList<PositiveType> types, AunceLossOptions options,
        Tensor? auWeight = null, bool perAu = false)
    {
        using var scope = NewDisposeScope();
        var b = z1.shape[0];
        var c = z1.shape[1];
        var n = 2 * b;
        if (types.Count != c)
        {
            throw new ArgumentException($"expected {c} positive types (one per AU), got {types.Count}", nameof(types));
        }

        var tau = options.Temperature;
        var zc = torch.cat([z1, z2], 0).permute(1, 0, 2);                 // (C, N, D)
        var st = zc.bmm(zc.transpose(1, 2)).div(tau);                    // (C, N, N): s_nm / τ
        var y = torch.cat([labels, labels], 0).t().to(z1.dtype);          // (C, N) anchor labels
        var same = y.unsqueeze(2).eq(y.unsqueeze(1));                    // (C, N, N): y_m == y_n
        var sameScores = st.masked_fill(same.logical_not(), Masked);

        var logMax = sameScores.max(-1).values;                         // (C, N)
        var logMix = sameScores.logsumexp(-1).sub(Math.Log(n));
        var aug = z1.mul(z2).sum(-1).div(tau).t();                        // (C, B)
        var logAug = torch.cat([aug, aug], 1);                            // (C, N)

        var typeCodes = torch.tensor(types.Select(t => (long)t).ToArray(), device: z1.device).unsqueeze(1);  // (C, 1)
        var logPos = torch.where(typeCodes.eq(0), logMax, torch.where(typeCodes.eq(1), logMix, logAug));

        var occ = y.eq(1);
        var unocc = y.eq(0);
        var lambda = occ.to(z1.dtype).mul(options.LambdaMin).add(unocc.to(z1.dtype).mul(options.LambdaMaj)); // (C, N)
        var negMask = same.logical_not().logical_and(occ.logical_or(unocc).unsqueeze(2));
        var logNeg = st.mul(lambda.unsqueeze(2)).masked_fill(negMask.logical_not(), Masked).logsumexp(-1);   // (C, N)

        // −log(pos / (pos + neg)) = softplus(log neg − log pos); an anchor with no negatives contributes exactly 0.
        var term = F.softplus(logNeg.sub(logPos)).masked_fill(negMask.any(-1).logical_not(), 0.0);
        var perAuLoss = term.mean([1]);                                   // (C)
        if (options.UseAuWeight)
        {
            if (auWeight is null)
            {
                throw new ArgumentException("UseAuWeight is set but no AU weights were given", nameof(auWeight));
            }

            perAuLoss = perAuLoss.mul(auWeight.to(perAuLoss.dtype).to(perAuLoss.device));
        }

        return (perAu ? perAuLoss : perAuLoss.mean()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per-AU weights from training occurrence rates (aunce-reference §1.6): w_i = C·(1/r_i) / Σ_j (1/r_j).
    /// Rates are floored at 1e-6 so that an AU never seen in training gets a large but finite weight.
    /// </summary>
    public static double[] AuWeights(IReadOnlyList<double> occurrenceRates)
    {
        var inv = occurrenceRates.Select(r => 1.0 / Math.Max(r, 1e-6)).ToArray();
        var sum = inv.Sum();
        return [.. inv.Select(v => occurrenceRates.Count * v / sum)];
    }
}
