using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AunceSearch.Training.Loss;

/// <summary>Which positive an AU uses in one batch (aunce-reference §1.3; MIN only in <see cref="PositiveMode.Paper"/>).</summary>
public enum PositiveType
{
    /// <summary>Highest-similarity same-label sample (reference: self included; paper: other samples only) (code 0).</summary>
    Max = 0,

    /// <summary>Class mixture (reference: same-label exp-scores summed over all 2B columns / 2B; paper: the centroid) (code 1).</summary>
    Mix = 1,

    /// <summary>Exp-score with the anchor's other augmented view (code 2).</summary>
    Aug = 2,

    /// <summary>Lowest-similarity same-label sample other than the anchor and its twin (paper mode only, code 3).</summary>
    Min = 3,
}

/// <summary>How the positives are computed (aunce-reference §9).</summary>
public enum PositiveMode
{
    /// <summary>Exactly the reference code (§1.3): MAX includes self, MIX = Σ same-label exp-scores / 2B. No MIN.</summary>
    Reference,

    /// <summary>
    /// The paper's intent: MAX/MIN = highest/lowest-similarity same-label sample other than the anchor and its twin; MIX =
    /// exp(⟨z_n, c⟩/τ) with c the re-normalised centroid of the anchor's same-label features (the whole 2B pool, anchor
    /// included); where no other same-label sample exists, MAX and MIN fall back to AUG.
    /// </summary>
    Paper,
}

/// <summary>Which anchors' negatives get λ_min (aunce-reference §9).</summary>
public enum LambdaAssignment
{
    /// <summary>Reference: λ_min for label-1 anchors, λ_maj for label-0 anchors, whatever the AU's frequency.</summary>
    Label,

    /// <summary>Per AU, the class that is rarer in the training split gets λ_min (differs for AUs active &gt; 50 % of the time).</summary>
    Frequency,
}

/// <summary>AUNCE loss parameters.</summary>
public sealed record AunceLossOptions
{
    public double Temperature { get; init; } = 0.5;

    /// <summary>λ for negatives of minority-class anchors; reference 1.2.</summary>
    public double LambdaMin { get; init; } = 1.2;

    /// <summary>λ for negatives of majority-class anchors; reference HEAD 0.8 (paper 0.4).</summary>
    public double LambdaMaj { get; init; } = 0.8;

    /// <summary>Positive-pair probabilities on a simplex; reference 0.2 / 0.2 / 0.6 / 0 (MAX / AUG / MIX / MIN).</summary>
    public double PMax { get; init; } = 0.2;

    public double PAug { get; init; } = 0.2;

    public double PMix { get; init; } = 0.6;

    public double PMin { get; init; }

    public PositiveMode Positives { get; init; } = PositiveMode.Reference;

    public LambdaAssignment LambdaAssignment { get; init; } = LambdaAssignment.Label;

    /// <summary>Multiply each AU's loss by its weight w_i (reference HEAD: off; initial commit and paper: on).</summary>
    public bool UseAuWeight { get; init; }

    /// <summary>Checks the parameters; the message names the offending one.</summary>
    public void Validate()
    {
        if (!(Temperature > 0) || double.IsInfinity(Temperature))
        {
            throw new ArgumentException($"temperature must be > 0, got {Temperature}");
        }

        if (!(LambdaMin >= 0) || !(LambdaMaj >= 0) || double.IsInfinity(LambdaMin) || double.IsInfinity(LambdaMaj))
        {
            throw new ArgumentException($"lambda_min and lambda_maj must be finite and >= 0, got {LambdaMin} and {LambdaMaj}");
        }

        double[] p = [PMax, PAug, PMix, PMin];
        if (p.Any(v => !(v >= 0) || v > 1) || Math.Abs(p.Sum() - 1) > 1e-6)
        {
            throw new ArgumentException($"p_max, p_aug, p_mix, p_min must lie in [0, 1] and sum to 1, got {PMax}, {PAug}, {PMix}, {PMin}");
        }

        if (Positives == PositiveMode.Reference && PMin != 0)
        {
            throw new ArgumentException("positives: reference has no lowest-similarity positive; p_min must be 0");
        }
    }

    /// <summary>
    /// One uniform per AU per batch → positive type. The reference's thresholds are kept (u &lt; p_max → MAX,
    /// u &lt; p_max + p_mix → MIX), then u &lt; p_max + p_mix + p_aug → AUG, else MIN; with the defaults this is exactly
    /// the reference's 0.2 / 0.8 split.
    /// </summary>
    public PositiveType[] DrawPositiveTypes(int auCount, Random random)
    {
        var types = new PositiveType[auCount];
        for (var k = 0; k < auCount; k++)
        {
            types[k] = TypeFor(random.NextDouble());
        }

        return types;
    }

    /// <summary>The positive type a uniform draw <paramref name="u"/> in [0, 1) selects.</summary>
    public PositiveType TypeFor(double u) =>
        u < PMax ? PositiveType.Max
        : u < PMax + PMix ? PositiveType.Mix
        : u < PMax + PMix + PAug || PMin <= 0 ? PositiveType.Aug
        : PositiveType.Min;
}

/// <summary>
/// The AUNCE contrastive loss (aunce-reference §1 and §9), vectorised over AUs, anchors and columns and evaluated in
/// log space (log-sum-exp), so that no temperature or λ overflows. <see cref="PositiveMode.Reference"/> computes exactly
/// what the reference code computes; <see cref="PositiveMode.Paper"/> the paper's intent.
/// </summary>
public static class AunceLoss
{
    private const double Masked = -1e9;

    /// <summary>
    /// Loss for unit-norm features <paramref name="z1"/>, <paramref name="z2"/> of shape (B, C, D) (the two views),
    /// 0/1 labels (B, C), one positive type per AU, optional per-AU weights (C) and, for
    /// <see cref="LambdaAssignment.Frequency"/>, the per-AU minority label (C; 1 where the AU is active in less than half
    /// of the training frames). Returns a scalar and, if asked, the per-AU losses (C).
    /// </summary>
    public static Tensor Compute(Tensor z1, Tensor z2, Tensor labels, IReadOnlyList<PositiveType> types, AunceLossOptions options,
        Tensor? auWeight = null, bool perAu = false, Tensor? minorityLabel = null)
    {
        using var scope = NewDisposeScope();
        var b = z1.shape[0];
        var c = z1.shape[1];
        var n = 2 * b;
        if (types.Count != c)
        {
            throw new ArgumentException($"expected {c} positive types (one per AU), got {types.Count}", nameof(types));
        }

        if (options.Positives == PositiveMode.Reference && types.Contains(PositiveType.Min))
        {
            throw new ArgumentException("the MIN positive exists only with positives: paper", nameof(types));
        }

        var tau = options.Temperature;
        var dtype = z1.dtype;
        var zc = torch.cat([z1, z2], 0).permute(1, 0, 2);                 // (C, N, D)
        var st = zc.bmm(zc.transpose(1, 2)).div(tau);                    // (C, N, N): s_nm / τ
        var y = torch.cat([labels, labels], 0).t().to(dtype);             // (C, N) anchor labels
        var same = y.unsqueeze(2).eq(y.unsqueeze(1));                    // (C, N, N): y_m == y_n
        var aug = z1.mul(z2).sum(-1).div(tau).t();                        // (C, B)
        var logAug = torch.cat([aug, aug], 1);                            // (C, N)

        Tensor logMax, logMix, logMin;
        if (options.Positives == PositiveMode.Reference)
        {
            var sameScores = st.masked_fill(same.logical_not(), Masked);
            logMax = sameScores.max(-1).values;                          // self included: e^{1/τ}
            logMix = sameScores.logsumexp(-1).sub(Math.Log(n));           // Σ_{m∈P_n} E_nm / 2B
            logMin = logAug;                                              // unused (MIN is rejected above)
        }
        else
        {
            // Other same-label samples: exclude the anchor and its twin (the other view of the same image).
            var idx = torch.arange(n, device: z1.device);
            var twin = idx.add(b).remainder(n);
            var selfOrTwin = idx.unsqueeze(1).eq(idx.unsqueeze(0)).logical_or(twin.unsqueeze(1).eq(idx.unsqueeze(0)));  // (N, N)
            var others = same.logical_and(selfOrTwin.logical_not().unsqueeze(0));                                       // (C, N, N)
            var hasOthers = others.any(-1);                                                                               // (C, N)
            logMax = torch.where(hasOthers, st.masked_fill(others.logical_not(), Masked).max(-1).values, logAug);
            logMin = torch.where(hasOthers, st.masked_fill(others.logical_not(), -Masked).min(-1).values, logAug);

            // Centroid of the same-label features of the pool (anchor included), re-normalised: one per (AU, class).
            var sameF = same.to(dtype);                                   // (C, N, N)
            var centroid = F.normalize(sameF.bmm(zc), p: 2, dim: -1, eps: 1e-12);                                      // (C, N, D)
            logMix = zc.mul(centroid).sum(-1).div(tau);                   // (C, N)
        }

        var typeCodes = torch.tensor(types.Select(t => (long)t).ToArray(), device: z1.device).unsqueeze(1);  // (C, 1)
        var logPos = torch.where(typeCodes.eq(0), logMax,
            torch.where(typeCodes.eq(1), logMix, torch.where(typeCodes.eq(2), logAug, logMin)));

        var occ = y.eq(1);
        var unocc = y.eq(0);
        Tensor minorityAnchor;                                            // (C, N): the anchor is of its AU's minority class
        if (options.LambdaAssignment == LambdaAssignment.Label)
        {
            minorityAnchor = occ;
        }
        else
        {
            if (minorityLabel is null)
            {
                throw new ArgumentException("lambda_assignment: frequency needs the per-AU minority label", nameof(minorityLabel));
            }

            minorityAnchor = y.eq(minorityLabel.to(dtype).to(z1.device).view(-1, 1));
        }

        var valid = occ.logical_or(unocc);                                // labels other than 0/1 have no negatives (§1.7)
        var lambda = minorityAnchor.to(dtype).mul(options.LambdaMin).add(minorityAnchor.logical_not().to(dtype).mul(options.LambdaMaj));   // (C, N)
        var negMask = same.logical_not().logical_and(valid.unsqueeze(2));
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

    /// <summary>Per AU, the minority label of the training split: 1 where the AU is active in at most half of the frames, else 0.</summary>
    public static float[] MinorityLabels(IReadOnlyList<double> occurrenceRates) => [.. occurrenceRates.Select(r => r <= 0.5 ? 1f : 0f)];

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
