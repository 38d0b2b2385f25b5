using AunceSearch.Model;

namespace AunceSearch.Search.Importance;

/// <summary>
/// PED-ANOVA (Watanabe, Bansal and Hutter, IJCAI 2023; Optuna 5's default importance evaluator): a parameter is
/// important to reaching the top <c>γ</c> of results as far as the distribution of its values among those top trials
/// differs from their distribution among all trials (locally: where the search went) or over the whole range (globally).
/// The difference is the Pearson divergence ∫ p_all(x) (p_top(x)/p_all(x) − 1)² dx of one-dimensional Parzen
/// estimates on a grid — closed form, no model to fit, O(trials × grid) per parameter. Shares are divergences over their
/// sum. Numbers are estimated in the domain's own scale (log for log domains); categorical choices by their frequencies
/// with one prior count each; integers as numbers (ordered, smoothed like floats); a simplex's components each as a number in [0, 1].
/// </summary>
public static class PedAnova
{
    /// <summary>The method's name as reports show it.</summary>
    public const string MethodName = "PED-ANOVA (Pearson divergence of the top-quantile vs all trials, Watanabe et al. 2023)";

    /// <summary>Grid points per numeric parameter.</summary>
    public const int GridSize = 50;

    /// <summary>
    /// The importances of the space's parameters, most important first, from trials' configurations and values; null values
    /// are left out. Parameters no trial carries (a condition never held) and fixed ones are left out. Fewer than 2 top
    /// trials (⌈γ·n⌉ &lt; 2) give no answer: an empty list.
    /// </summary>
    /// <param name="quantile">γ: the top fraction whose parameters are compared (Optuna's default 0.1).</param>
    /// <param name="local">true: compare with the distribution of all trials (Optuna's evaluate_on_local); false: with the uniform over the range.</param>
    public static IReadOnlyList<ParameterImportance> Evaluate(SearchSpace space, IReadOnlyList<(IReadOnlyDictionary<string, string> Config, double Value)> trials,
        Direction direction, double quantile = 0.1, bool local = true)
    {
        if (quantile is <= 0 or > 1 || double.IsNaN(quantile))
        {
            throw new ArgumentOutOfRangeException(nameof(quantile), quantile, "quantile: must be in (0, 1]");
        }

        var valid = trials.Where(t => double.IsFinite(t.Value)).ToList();
        var ordered = direction == Direction.Maximize ? valid.OrderByDescending(t => t.Value) : valid.OrderBy(t => t.Value);
        var topCount = (int)Math.Ceiling(quantile * valid.Count);
        if (topCount < 2)
        {
            return [];
        }

        var top = ordered.Take(topCount).ToList();
        var results = new List<ParameterImportance>();
        foreach (var domain in space.Domains)
        {
            foreach (var (name, scale) in Scales(domain))
            {
                var all = valid.Select(t => t.Config.TryGetValue(name, out var v) ? scale.Encode(v) : null).OfType<double>().ToArray();
                var best = top.Select(t => t.Config.TryGetValue(name, out var v) ? scale.Encode(v) : null).OfType<double>().ToArray();
                if (best.Length < 2 || all.Length < 2)
                {
                    continue;
                }

                // One smoothing for both: a narrower estimate of the larger set would differ from the top set's by its shape alone.
                var bandwidth = scale.Bandwidth(best);
                var pTop = scale.Density(best, bandwidth);
                var pAll = local ? scale.Density(all, bandwidth) : Uniform(pTop.Length);
                var divergence = 0.0;
                for (var i = 0; i < pTop.Length; i++)
                {
                    if (pAll[i] > 0)
                    {
                        var r = (pTop[i] / pAll[i]) - 1;
                        divergence += pAll[i] * r * r;
                    }
                }

                results.Add(new ParameterImportance(name, 0, divergence));
            }
        }

        var total = results.Sum(r => r.Divergence);
        return [.. results.Select(r => r with { Share = total > 0 ? r.Divergence / total : 1.0 / results.Count })
            .OrderByDescending(r => r.Share).ThenBy(r => r.Parameter, StringComparer.Ordinal)];
    }

    private static double[] Uniform(int n) => [.. Enumerable.Repeat(1.0 / n, n)];

    /// <summary>How one parameter's values become points on a grid, and its estimated distribution over that grid.</summary>
    private abstract class Scale
    {
        public abstract double? Encode(string text);

        /// <summary>The kernel's width for a set of points (Scott's rule), or 0 where there is none (choices).</summary>
        public virtual double Bandwidth(double[] points) => 0;

        /// <summary>Probabilities over the grid (summing to 1).</summary>
        public abstract double[] Density(double[] points, double bandwidth);
    }

    /// <summary>A number on [Low, High] (already in the estimation scale): a Gaussian Parzen estimate with Scott's bandwidth, on an even grid.</summary>
    private sealed class Numeric(double low, double high, bool log, int gridSize) : Scale
    {
        public override double? Encode(string text) =>
            double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && (!log || v > 0)
                ? Math.Clamp(log ? Math.Log(v) : v, low, high)
                : null;

        private double Range => high > low ? high - low : 1;

        public override double Bandwidth(double[] points)
        {
            var n = points.Length;
            var mean = points.Average();
            var sd = Math.Sqrt(points.Sum(p => (p - mean) * (p - mean)) / Math.Max(1, n - 1));
            // Scott's rule, floored at one grid step so that a cluster of equal values still spreads over its neighbourhood.
            return Math.Max(1.06 * sd * Math.Pow(n, -0.2), Range / gridSize);
        }

        public override double[] Density(double[] points, double bandwidth)
        {
            var range = Range;
            var grid = new double[gridSize];
            for (var i = 0; i < gridSize; i++)
            {
                var x = gridSize == 1 ? low : low + (range * i / (gridSize - 1));
                var sum = 0.0;
                foreach (var p in points)
                {
                    var z = (x - p) / bandwidth;
                    sum += Math.Exp(-0.5 * z * z);
                }

                grid[i] = sum;
            }

            return Normalise(grid);
        }
    }

    /// <summary>Categorical choices: frequencies with one prior count per choice.</summary>
    private sealed class Choices(string[] choices) : Scale
    {
        public override double? Encode(string text) => Array.IndexOf(choices, text) is var i and >= 0 ? i : null;

        public override double[] Density(double[] points, double bandwidth)
        {
            var counts = Enumerable.Repeat(1.0, choices.Length).ToArray();
            foreach (var p in points)
            {
                counts[(int)p]++;
            }

            return Normalise(counts);
        }
    }

    private static double[] Normalise(double[] v)
    {
        var total = v.Sum();
        return [.. v.Select(x => x / total)];
    }

    private static IEnumerable<(string Name, Scale Scale)> Scales(Domain domain) => domain switch
    {
        FloatDomain f => [(f.Name, new Numeric(f.Log ? Math.Log(f.Low) : f.Low, f.Log ? Math.Log(f.High) : f.High, f.Log, GridSize))],
        IntDomain i => [(i.Name, new Numeric(i.Log ? Math.Log(i.Low) : i.Low, i.Log ? Math.Log(i.High) : i.High, i.Log, GridSize))],
        CategoricalDomain c when c.Choices.Length > 1 => [(c.Name, new Choices([.. c.Choices]))],
        SimplexDomain s => s.Components.Where(c => !s.Fixed.ContainsKey(c)).Select(c => (c, (Scale)new Numeric(0, s.Budget, false, GridSize))),
        _ => [],
    };
}
