using System.Globalization;
using AunceSearch.Model;

namespace AunceSearch.Search.Pruners;

/// <summary>
/// Optuna's <c>WilcoxonPruner(p_threshold=0.1, n_startup_steps=2)</c> rule applied to cross-validation folds: the
/// trial's per-fold values are paired with the incumbent's values on the same folds, a one-sided Wilcoxon signed-rank
/// test (zero_method "zsplit") asks whether the incumbent is better, and the trial is pruned when p &lt; threshold —
/// never while the trial's mean over the paired folds is at least as good as the incumbent's, and not before
/// <see cref="StartupFolds"/> (at least 2) folds are paired. P-values are SciPy's: exact for up to 25 pairs without
/// zeros or tied magnitudes, otherwise the normal approximation with the tie correction. With k folds the smallest
/// exact p-value is 2^-k, so with a 0.1 threshold pruning needs at least 4 folds. Repeated tests at every epoch
/// inflate the false-positive rate (Optuna's docs suggest a Pocock-corrected threshold).
/// </summary>
public sealed class WilcoxonPruner
{
    public WilcoxonPruner(double pThreshold = 0.1, int startupFolds = 2, Direction direction = Direction.Maximize)
    {
        if (pThreshold is <= 0 or > 1 || double.IsNaN(pThreshold))
        {
            throw new ArgumentOutOfRangeException(nameof(pThreshold), pThreshold, "p_threshold must be in (0, 1]");
        }

        PThreshold = pThreshold;
        StartupFolds = Math.Max(2, startupFolds);
        Direction = direction;
    }

    public double PThreshold { get; }

    public int StartupFolds { get; }

    public Direction Direction { get; }

    /// <summary>Decides on a trial's fold values (fold → metric) against the incumbent's at the same step.</summary>
    public SchedulerDecision Decide(int trial, int step, IReadOnlyDictionary<int, double> current, IReadOnlyDictionary<int, double>? incumbent)
    {
        var mean = current.Values.DefaultIfEmpty(double.NaN).Average();
        SchedulerDecision Continue(string why, double? p = null, int n = 0) =>
            new(trial, step, DecisionKind.Continue, mean, null, step, p, null, n, "continues: " + why);
        if (incumbent is null)
        {
            return Continue("no incumbent yet");
        }

        var folds = current.Keys.Where(incumbent.ContainsKey).Where(f => !double.IsNaN(current[f]) && !double.IsNaN(incumbent[f])).Order().ToList();
        if (folds.Count < StartupFolds)
        {
            return Continue($"{folds.Count} paired fold(s), the test starts at {StartupFolds}");
        }

        var sign = Direction == Direction.Maximize ? 1.0 : -1.0;
        var d = folds.Select(f => sign * (incumbent[f] - current[f])).ToArray();   // > 0 where the incumbent is better
        var p = OneSidedGreater(d);
        var ours = folds.Average(f => current[f]);
        var theirs = folds.Average(f => incumbent[f]);
        if (sign * (ours - theirs) >= 0)
        {
            return Continue(Fmt($"its mean {ours:0.0000} over {folds.Count} folds is not worse than the incumbent's {theirs:0.0000} (p = {p:0.####})"), p, folds.Count);
        }

        if (p >= PThreshold)
        {
            return Continue(Fmt($"Wilcoxon p = {p:0.####} >= {PThreshold} over {folds.Count} paired folds (mean {ours:0.0000} vs incumbent {theirs:0.0000})"), p, folds.Count);
        }

        return new SchedulerDecision(trial, step, DecisionKind.Stop, mean, null, step, p, null, folds.Count,
            Fmt($"pruned at step {step}: the incumbent is better on {folds.Count} paired folds (Wilcoxon signed-rank p = {p:0.####} < {PThreshold}; mean {ours:0.0000} vs {theirs:0.0000})"));
    }

    /// <summary>SciPy's <c>wilcoxon(d, zero_method="zsplit", alternative="greater").pvalue</c> (method "auto", SciPy 1.10).</summary>
    public static double OneSidedGreater(IReadOnlyList<double> d)
    {
        var n = d.Count;
        if (n == 0)
        {
            return double.NaN;
        }

        var abs = d.Select(Math.Abs).ToArray();
        var ranks = AverageRanks(abs);
        var rPlus = 0.0;
        for (var i = 0; i < n; i++)
        {
            rPlus += d[i] > 0 ? ranks[i] : d[i] == 0 ? ranks[i] / 2 : 0;
        }

        var hasZeros = d.Any(x => x == 0);
        var hasTies = abs.Distinct().Count() != n;
        if (n <= 25 && !hasZeros && !hasTies)
        {
            // Exact: P(W+ >= T) over the 2^n equally likely sign assignments of ranks 1..n.
            var max = n * (n + 1) / 2;
            var counts = new double[max + 1];
            counts[0] = 1;
            for (var r = 1; r <= n; r++)
            {
                for (var s = max; s >= r; s--)
                {
                    counts[s] += counts[s - r];
                }
            }

            var t = (int)Math.Round(rPlus);
            return counts.Skip(t).Sum() / Math.Pow(2, n);
        }

        var mn = n * (n + 1) / 4.0;
        var se = n * (n + 1) * ((2.0 * n) + 1);
        foreach (var group in ranks.GroupBy(r => r).Where(g => g.Count() > 1))
        {
            var c = group.Count();
            se -= 0.5 * c * ((c * c) - 1);
        }

        se = Math.Sqrt(se / 24);
        return 1 - Normal.Cdf((rPlus - mn) / se);
    }

    private static double[] AverageRanks(double[] x)
    {
        var order = Enumerable.Range(0, x.Length).OrderBy(i => x[i]).ToArray();
        var ranks = new double[x.Length];
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && x[order[j + 1]] == x[order[i]])
            {
                j++;
            }

            for (var k = i; k <= j; k++)
            {
                ranks[order[k]] = (i + j + 2) / 2.0;
            }

            i = j + 1;
        }

        return ranks;
    }

    private static string Fmt(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
