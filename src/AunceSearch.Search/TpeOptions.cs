using AunceSearch.Model;
namespace AunceSearch.Search;

/// <summary>Tree-structured Parzen Estimator settings; defaults are Optuna's (3.x; multivariate and constant liar as in 5.0 are options).</summary>
public sealed record TpeOptions
{
    public int StartupTrials { get; init; } = 10;

    public int EiCandidates { get; init; } = 24;

    public double PriorWeight { get; init; } = 1.0;

    public bool ConsiderMagicClip { get; init; } = true;

    public bool ConsiderEndpoints { get; init; }

    /// <summary>Sample all parameters jointly from one kernel per candidate (Optuna's multivariate TPE).</summary>
    public bool Multivariate { get; init; }

    /// <summary>Running trials count as the worst observations (so parallel workers do not all pick the same region).</summary>
    public bool ConstantLiar { get; init; }

    public Direction Direction { get; init; } = Direction.Maximize;

    /// <summary>Optuna's default γ: min(⌈0.1·n⌉, 25).</summary>
    public static int DefaultGamma(int n) => Math.Min((int)Math.Ceiling(0.1 * n), 25);

    /// <summary>Optuna's default weights: 1 for n &lt; 25; else a ramp from 1/n to 1 over the oldest n−25, then 25 ones.</summary>
    public static double[] DefaultWeights(int n)
    {
        if (n == 0)
        {
            return [];
        }

        if (n < 25)
        {
            return [.. Enumerable.Repeat(1.0, n)];
        }

        var rampLength = n - 25;
        var ramp = Enumerable.Range(0, rampLength).Select(i => rampLength == 1 ? 1.0 / n : (1.0 / n) + (i * (1 - (1.0 / n)) / (rampLength - 1)));
        return [.. ramp, .. Enumerable.Repeat(1.0, 25)];
    }
}
