using System.Collections.Immutable;
using System.Globalization;
using AunceSearch.Model;

namespace AunceSearch.Search;

/// <summary>
/// TPE (Bergstra et al. 2011) as Optuna implements it: after <see cref="TpeOptions.StartupTrials"/> random trials,
/// observations are split into the best γ(n) ("below": complete trials by value, then pruned ones by how far they got)
/// and the rest ("above"); Parzen estimators l and g (truncated Gaussians with Optuna's bandwidths and a prior kernel;
/// categorical kernels with a prior) are fitted on each; <see cref="TpeOptions.EiCandidates"/> candidates drawn from l
/// are scored by log l − log g and the best is returned. Real parameters on a log scale are modelled in log space,
/// integers on their step grid, and a simplex through stick-breaking fractions. Deterministic for (seed, trial, history).
/// </summary>
public sealed class TpeSampler(ulong seed, TpeOptions? options = null) : ISampler
{
    private readonly RandomSampler _startup = new(seed);

    public ulong Seed { get; } = seed;

    public TpeOptions Options { get; } = options ?? new TpeOptions();

    public ImmutableSortedDictionary<string, string> Sample(SearchSpace space, int trialNumber, IReadOnlyList<Observation> history)
    {
        var finished = history.Where(h => h.Trial != trialNumber && h.Value is { } v && !double.IsNaN(v) && h.State != ObservationState.Running).ToList();
        if (finished.Count < Options.StartupTrials)
        {
            return _startup.Sample(space, trialNumber);
        }

        var sign = Options.Direction == Direction.Maximize ? -1.0 : 1.0;
        var ordered = finished
            .OrderBy(h => h.State == ObservationState.Complete ? 0 : 1)
            .ThenBy(h => h.State == ObservationState.Complete ? 0 : -h.Step)
            .ThenBy(h => sign * h.Value!.Value)
            .ThenBy(h => h.Trial)
            .ToList();
        var nBelow = TpeOptions.DefaultGamma(ordered.Count);
        var below = ordered.Take(nBelow).OrderBy(h => h.Trial).ToList();
        var above = ordered.Skip(nBelow).ToList();
        if (Options.ConstantLiar)
        {
            above.AddRange(history.Where(h => h.State == ObservationState.Running && h.Trial != trialNumber));
        }

        above = [.. above.OrderBy(h => h.Trial)];
        var dims = space.Domains.SelectMany(Dimension.Of).ToList();
        var random = new DeterministicRandom(Seed, (ulong)trialNumber, 0x747065UL);
        var chosen = new double[dims.Count];
        // Conditional spaces: each coordinate is fitted on the trials where it was active (univariate, as Optuna does).
        if (Options.Multivariate && dims.Count > 0 && !space.HasConditions)
        {
            var l = dims.Select(d => Fit(d, below, dims.Count, multivariate: true)).ToArray();
            var g = dims.Select(d => Fit(d, above, dims.Count, multivariate: true)).ToArray();
            var bestScore = double.NegativeInfinity;
            for (var c = 0; c < Options.EiCandidates; c++)
            {
                var kernel = l[0].PickKernel(random);
                var x = new double[dims.Count];
                for (var i = 0; i < dims.Count; i++)
                {
                    x[i] = l[i].SampleKernel(kernel, random);
                }

                var score = LogMixture(l, x) - LogMixture(g, x);
                if (score > bestScore)
                {
                    bestScore = score;
                    Array.Copy(x, chosen, x.Length);
                }
            }
        }
        else
        {
            for (var i = 0; i < dims.Count; i++)
            {
                var l = Fit(dims[i], below, 1, multivariate: false);
                var g = Fit(dims[i], above, 1, multivariate: false);
                var bestScore = double.NegativeInfinity;
                for (var c = 0; c < Options.EiCandidates; c++)
                {
                    var x = l.SampleKernel(l.PickKernel(random), random);
                    var score = l.LogPdf(x) - g.LogPdf(x);
                    if (score > bestScore)
                    {
                        bestScore = score;
                        chosen[i] = x;
                    }
                }
            }
        }

        var config = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var offset = 0;
        foreach (var domain in space.Domains)
        {
            var count = Dimension.Of(domain).Count();
            Dimension.Decode(domain, chosen.AsSpan(offset, count), config);
            offset += count;
        }

        return space.Prune(config.ToImmutable());
    }

    /// <summary>The joint log density of independent per-dimension mixtures that share kernel weights (multivariate).</summary>
    private static double LogMixture(Parzen[] p, double[] x)
    {
        var k = p[0].Weights.Length;
        var terms = new double[k];
        for (var j = 0; j < k; j++)
        {
            var t = p[0].LogWeight(j);
            for (var i = 0; i < p.Length; i++)
            {
                t += p[i].LogKernel(j, x[i]);
            }

            terms[j] = t;
        }

        return LogSumExp(terms);
    }

    private Parzen Fit(Dimension d, IReadOnlyList<Observation> obs, int dimensions, bool multivariate)
    {
        var values = obs.Select(o => d.Encode(o.Config)).Where(v => !double.IsNaN(v)).ToArray();
        var weights = TpeOptions.DefaultWeights(values.Length).Append(Options.PriorWeight).ToArray();
        var total = weights.Sum();
        weights = [.. weights.Select(w => w / total)];
        if (d.Choices > 0)
        {
            var n = values.Length + 1;
            var probs = new double[n][];
            for (var j = 0; j < n; j++)
            {
                probs[j] = [.. Enumerable.Repeat(Options.PriorWeight / n, d.Choices)];
                if (j < values.Length)
                {
                    probs[j][(int)values[j]] += 1;
                }

                var s = probs[j].Sum();
                probs[j] = [.. probs[j].Select(p => p / s)];
            }

            return new Parzen(d, weights, [], [], probs);
        }

        var mus = values.Append((d.Low + d.High) / 2).ToArray();
        var range = d.High - d.Low;
        double[] sigmas;
        if (multivariate)
        {
            var sigma = 0.2 * Math.Pow(Math.Max(values.Length, 1), -1.0 / (dimensions + 4)) * range;
            sigmas = [.. values.Select(_ => sigma), range];
        }
        else
        {
            sigmas = NeighbourSigmas(values, d.Low, d.High, range);
        }

        var minSigma = Options.ConsiderMagicClip ? range / Math.Min(100.0, 1.0 + mus.Length) : 1e-12;
        sigmas = [.. sigmas.Select(s => Math.Clamp(s, minSigma, range))];
        return new Parzen(d, weights, mus, sigmas, []);
    }

    /// <summary>Optuna's univariate bandwidths: the larger gap to a sorted neighbour (prior included), endpoints as neighbours.</summary>
    private double[] NeighbourSigmas(double[] values, double low, double high, double range)
    {
        var prior = (low + high) / 2;
        var all = values.Append(prior).ToArray();
        var order = Enumerable.Range(0, all.Length).OrderBy(i => all[i]).ThenBy(i => i).ToArray();
        var sorted = order.Select(i => all[i]).ToArray();
        var withEnds = new[] { low }.Concat(sorted).Append(high).ToArray();
        var s = new double[sorted.Length];
        for (var i = 0; i < sorted.Length; i++)
        {
            s[i] = Math.Max(sorted[i] - withEnds[i], withEnds[i + 2] - sorted[i]);
        }

        if (!Options.ConsiderEndpoints && sorted.Length >= 2)
        {
            s[0] = sorted[1] - sorted[0];
            s[^1] = sorted[^1] - sorted[^2];
        }

        var result = new double[all.Length];
        for (var i = 0; i < order.Length; i++)
        {
            result[order[i]] = s[i];
        }

        result[^1] = range;   // the prior kernel spans the whole range
        return result;
    }

    internal static double LogSumExp(IReadOnlyList<double> xs)
    {
        var max = xs.Max();
        if (double.IsNegativeInfinity(max))
        {
            return max;
        }

        return max + Math.Log(xs.Sum(x => Math.Exp(x - max)));
    }

    /// <summary>A mixture of truncated Gaussians (or categorical kernels) over one internal coordinate.</summary>
    private sealed record Parzen(Dimension D, double[] Weights, double[] Mus, double[] Sigmas, double[][] Probs)
    {
        private readonly double[] _logWeights = [.. Weights.Select(w => Math.Log(w))];
        private readonly double[] _logNorm = Mus.Length == 0 ? [] :
            [.. Mus.Select((mu, j) => Math.Log(Sigmas[j]) + Math.Log(Math.Max(Normal.Cdf((D.High - mu) / Sigmas[j]) - Normal.Cdf((D.Low - mu) / Sigmas[j]), 1e-300)))];

        public int PickKernel(DeterministicRandom r)
        {
            var u = r.NextDouble();
            for (var j = 0; j < Weights.Length; j++)
            {
                u -= Weights[j];
                if (u < 0)
                {
                    return j;
                }
            }

            return Weights.Length - 1;
        }

        public double SampleKernel(int j, DeterministicRandom r)
        {
            if (D.Choices > 0)
            {
                var u = r.NextDouble();
                for (var c = 0; c < D.Choices; c++)
                {
                    u -= Probs[j][c];
                    if (u < 0)
                    {
                        return c;
                    }
                }

                return D.Choices - 1;
            }

            var x = Normal.SampleTruncated(Mus[j], Sigmas[j], D.Low, D.High, r);
            return D.Step > 0 ? D.Snap(x) : x;
        }

        public double LogKernel(int j, double x)
        {
            if (D.Choices > 0)
            {
                return Math.Log(Probs[j][(int)x]);
            }

            var mu = Mus[j];
            var s = Sigmas[j];
            if (D.Step > 0)
            {
                var lo = Math.Max(x - (D.Step / 2), D.Low);
                var hi = Math.Min(x + (D.Step / 2), D.High);
                var mass = Normal.Cdf((hi - mu) / s) - Normal.Cdf((lo - mu) / s);
                return Math.Log(Math.Max(mass, 1e-300)) + Math.Log(s) - _logNorm[j];   // _logNorm includes log σ
            }

            return Normal.LogPdf((x - mu) / s) - _logNorm[j];
        }

        public double LogWeight(int j) => _logWeights[j];

        public double LogPdf(double x)
        {
            var max = double.NegativeInfinity;
            Span<double> terms = Weights.Length <= 1024 ? stackalloc double[Weights.Length] : new double[Weights.Length];
            for (var j = 0; j < Weights.Length; j++)
            {
                terms[j] = _logWeights[j] + LogKernel(j, x);
                max = Math.Max(max, terms[j]);
            }

            if (double.IsNegativeInfinity(max))
            {
                return max;
            }

            var sum = 0.0;
            foreach (var t in terms)
            {
                sum += Math.Exp(t - max);
            }

            return max + Math.Log(sum);
        }
    }

    /// <summary>One internal coordinate of a domain: numeric (with bounds and optional step, log-transformed) or categorical.</summary>
    private sealed record Dimension(string Name, double Low, double High, double Step, int Choices, Func<IReadOnlyDictionary<string, string>, double> Encode)
    {
        public double Snap(double x) => Math.Clamp(Low + (Step / 2) + (Math.Round((x - Low - (Step / 2)) / Step) * Step), Low + (Step / 2), High - (Step / 2));

        private static double D(IReadOnlyDictionary<string, string> c, string name) =>
            c.TryGetValue(name, out var s) ? double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture) : double.NaN;

        public static IEnumerable<Dimension> Of(Domain domain) => domain switch
        {
            FloatDomain f when f.Log => [new(f.Name, Math.Log(f.Low), Math.Log(f.High), 0, 0, c => Math.Log(D(c, f.Name)))],
            FloatDomain f => [new(f.Name, f.Low, f.High, 0, 0, c => D(c, f.Name))],
            IntDomain n when n.Log => [new(n.Name, Math.Log(n.Low - 0.5), Math.Log(n.High + 0.5), 0, 0, c => Math.Log(D(c, n.Name)))],
            IntDomain n => [new(n.Name, n.Low - (n.Step / 2.0), n.High + (n.Step / 2.0), n.Step, 0, c => D(c, n.Name))],
            CategoricalDomain k => [new(k.Name, 0, k.Choices.Length, 0, k.Choices.Length, c => c.TryGetValue(k.Name, out var v) ? Math.Max(0, k.Choices.IndexOf(v)) : double.NaN)],
            FixedDomain => [],
            SimplexDomain s => s.Components.Where(c => !s.Fixed.ContainsKey(c)).SkipLast(1).Select((name, i) =>
                new Dimension($"{s.Name}.stick{i}", 0, 1, 0, 0, c => StickFraction(s, c, i))),
            _ => throw new NotSupportedException($"TPE cannot model {domain.GetType().Name}"),
        };

        /// <summary>Stick-breaking: fraction i of what the earlier free components left.</summary>
        private static double StickFraction(SimplexDomain s, IReadOnlyDictionary<string, string> c, int i)
        {
            var free = s.Components.Where(x => !s.Fixed.ContainsKey(x)).ToArray();
            var left = s.Budget - s.Fixed.Values.Sum();
            for (var j = 0; j < i; j++)
            {
                left -= D(c, free[j]);
            }

            return left <= 1e-12 ? 0.5 : Math.Clamp(D(c, free[i]) / left, 0, 1);
        }

        public static void Decode(Domain domain, ReadOnlySpan<double> x, ImmutableSortedDictionary<string, string>.Builder into)
        {
            static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
            switch (domain)
            {
                case FloatDomain f:
                    into[f.Name] = F(Math.Clamp(f.Log ? Math.Exp(x[0]) : x[0], f.Low, f.High));
                    break;
                case IntDomain n:
                    var v = n.Log ? Math.Round(Math.Exp(x[0])) : n.Low + (Math.Round((x[0] - n.Low) / n.Step) * n.Step);
                    into[n.Name] = ((long)Math.Clamp(v, n.Low, n.High)).ToString(CultureInfo.InvariantCulture);
                    break;
                case CategoricalDomain k:
                    into[k.Name] = k.Choices[(int)Math.Clamp(x[0], 0, k.Choices.Length - 1)];
                    break;
                case FixedDomain fx:
                    into[fx.Name] = fx.Value;
                    break;
                case SimplexDomain s:
                    var free = s.Components.Where(c => !s.Fixed.ContainsKey(c)).ToArray();
                    var left = s.Budget - s.Fixed.Values.Sum();
                    for (var i = 0; i < free.Length; i++)
                    {
                        var part = i == free.Length - 1 ? left : left * x[i];
                        into[free[i]] = F(Math.Max(part, 0));
                        left -= part;
                    }

                    foreach (var (k2, v2) in s.Fixed)
                    {
                        into[k2] = F(v2);
                    }

                    break;
            }
        }
    }
}

/// <summary>Standard normal helpers.</summary>
internal static class Normal
{
    public static double LogPdf(double z) => (-0.5 * z * z) - (0.5 * Math.Log(2 * Math.PI));

    /// <summary>Φ(z) via erfc (W. J. Cody's rational approximations through <see cref="Erfc"/>).</summary>
    public static double Cdf(double z) => 0.5 * Erfc(-z / Math.Sqrt(2));

    /// <summary>Complementary error function, relative error below 1.2e-7 (Numerical Recipes' Chebyshev fit).</summary>
    public static double Erfc(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + (0.5 * z));
        ReadOnlySpan<double> c = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
        var poly = 0.0;
        for (var i = c.Length - 1; i >= 0; i--)
        {
            poly = c[i] + (t * poly);
        }

        var r = t * Math.Exp(-(z * z) + poly);
        return x >= 0 ? r : 2 - r;
    }

    /// <summary>Φ⁻¹(p) (Acklam's algorithm with one Halley refinement).</summary>
    public static double InverseCdf(double p)
    {
        if (p <= 0)
        {
            return double.NegativeInfinity;
        }

        if (p >= 1)
        {
            return double.PositiveInfinity;
        }

        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        double x;
        if (p < 0.02425)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            x = (((((((((c[0] * q) + c[1]) * q) + c[2]) * q) + c[3]) * q) + c[4]) * q + c[5]) / ((((((((d[0] * q) + d[1]) * q) + d[2]) * q) + d[3]) * q) + 1);
        }
        else if (p > 1 - 0.02425)
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            x = -(((((((((c[0] * q) + c[1]) * q) + c[2]) * q) + c[3]) * q) + c[4]) * q + c[5]) / ((((((((d[0] * q) + d[1]) * q) + d[2]) * q) + d[3]) * q) + 1);
        }
        else
        {
            var q = p - 0.5;
            var r = q * q;
            x = (((((((((a[0] * r) + a[1]) * r) + a[2]) * r) + a[3]) * r) + a[4]) * r + a[5]) * q /
                (((((((((b[0] * r) + b[1]) * r) + b[2]) * r) + b[3]) * r) + b[4]) * r + 1);
        }

        var e = Cdf(x) - p;
        var u = e * Math.Sqrt(2 * Math.PI) * Math.Exp(x * x / 2);
        return x - (u / (1 + (x * u / 2)));
    }

    /// <summary>A draw from N(mu, sigma²) truncated to [low, high], by inverting the CDF.</summary>
    public static double SampleTruncated(double mu, double sigma, double low, double high, DeterministicRandom r)
    {
        var a = Cdf((low - mu) / sigma);
        var b = Cdf((high - mu) / sigma);
        if (b - a < 1e-12)
        {
            return Math.Clamp(mu, low, high);
        }

        var u = a + (r.NextDouble() * (b - a));
        return Math.Clamp(mu + (sigma * InverseCdf(u)), low, high);
    }
}
