using System.Collections.Immutable;
using System.Globalization;

namespace AunceSearch.Search.Tests;

public class TpeSamplerTests
{
    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private static readonly SearchSpace Space = new([
        new FloatDomain("x", 0, 1),
        new FloatDomain("lr", 1e-4, 1e-1, Log: true),
        new IntDomain("batch", 8, 64, Step: 8),
        new CategoricalDomain("enc", ["a", "b", "c"]),
        new SimplexDomain("pos", ["p_max", "p_aug", "p_mix", "p_min"], ImmutableDictionary<string, double>.Empty.Add("p_min", 0)),
    ]);

    /// <summary>Best at x = 0.3, lr = 1e-2, batch 32, enc b, p_mix = 0.7.</summary>
    private static double Objective(IReadOnlyDictionary<string, string> c) =>
        -Math.Pow(D(c["x"]) - 0.3, 2) - (0.1 * Math.Pow(Math.Log10(D(c["lr"])) + 2, 2)) - (Math.Abs(D(c["batch"]) - 32) / 200)
        - (c["enc"] == "b" ? 0 : 0.1) - Math.Pow(D(c["p_mix"]) - 0.7, 2);

    private static double Run(ISampler sampler, int trials)
    {
        var history = new List<Observation>();
        var best = double.NegativeInfinity;
        for (var t = 0; t < trials; t++)
        {
            var c = sampler.Sample(Space, t, history);
            var v = Objective(c);
            best = Math.Max(best, v);
            history.Add(new Observation(t, c, ObservationState.Complete, v, 1));
        }

        return best;
    }

    [Fact]
    public void Gamma_and_weights_are_Optunas_defaults()
    {
        Assert.Equal(1, TpeOptions.DefaultGamma(10));
        Assert.Equal(10, TpeOptions.DefaultGamma(100));
        Assert.Equal(25, TpeOptions.DefaultGamma(1000));
        Assert.Equal(Enumerable.Repeat(1.0, 24), TpeOptions.DefaultWeights(24));
        var w = TpeOptions.DefaultWeights(30);
        Assert.Equal(30, w.Length);
        Assert.Equal(1.0 / 30, w[0], 12);
        Assert.All(w.Skip(5), x => Assert.Equal(1.0, x));
    }

    [Fact]
    public void Startup_trials_are_random_and_later_ones_deterministic_for_the_same_history()
    {
        var tpe = new TpeSampler(5);
        var random = new RandomSampler(5);
        Assert.Equal(random.Sample(Space, 3).ToArray(), tpe.Sample(Space, 3, []).ToArray());
        var history = Enumerable.Range(0, 15).Select(t => { var c = random.Sample(Space, t); return new Observation(t, c, ObservationState.Complete, Objective(c), 1); }).ToList();
        Assert.Equal(tpe.Sample(Space, 15, history).ToArray(), new TpeSampler(5).Sample(Space, 15, history).ToArray());
        Assert.NotEqual(random.Sample(Space, 15).ToArray(), tpe.Sample(Space, 15, history).ToArray());
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Suggestions_stay_inside_their_domains(bool multivariate, bool liar)
    {
        var tpe = new TpeSampler(9, new TpeOptions { Multivariate = multivariate, ConstantLiar = liar });
        var history = new List<Observation>();
        for (var t = 0; t < 60; t++)
        {
            var c = tpe.Sample(Space, t, history);
            Assert.InRange(D(c["x"]), 0, 1);
            Assert.InRange(D(c["lr"]), 1e-4, 1e-1);
            Assert.Equal(0, (int)D(c["batch"]) % 8);
            Assert.InRange(D(c["batch"]), 8, 64);
            Assert.Contains(c["enc"], new[] { "a", "b", "c" });
            Assert.Equal(1.0, D(c["p_max"]) + D(c["p_aug"]) + D(c["p_mix"]) + D(c["p_min"]), 9);
            history.Add(new Observation(t, c, t % 7 == 0 ? ObservationState.Running : ObservationState.Complete, Objective(c), 1));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Tpe_finds_better_configurations_than_random_search_over_seeds(bool multivariate)
    {
        var tpeWins = 0;
        var tpe = new List<double>();
        var rnd = new List<double>();
        for (ulong seed = 1; seed <= 15; seed++)
        {
            var a = Run(new TpeSampler(seed, new TpeOptions { Multivariate = multivariate }), 60);
            var b = Run(new RandomSampler(seed), 60);
            tpe.Add(a);
            rnd.Add(b);
            tpeWins += a > b ? 1 : 0;
        }

        var medianTpe = Percentile.Linear(tpe, 50);
        var medianRandom = Percentile.Linear(rnd, 50);
        Assert.True(medianTpe > medianRandom, $"median best: TPE {medianTpe:0.0000} vs random {medianRandom:0.0000}");
        Assert.True(tpeWins >= 10, $"TPE beat random in only {tpeWins} of 15 seeds");
    }

    [Fact]
    public void Pruned_trials_rank_after_complete_ones_and_running_ones_count_only_with_constant_liar()
    {
        var space = new SearchSpace([new FloatDomain("x", 0, 1)]);
        Observation O(int t, double x, ObservationState s, double v, int step = 4) =>
            new(t, new Dictionary<string, string> { ["x"] = x.ToString("R", CultureInfo.InvariantCulture) }, s, v, step);
        // Ten complete trials near x = 0.9 are good; pruned trials near 0.1 have higher values but must not lead.
        var history = Enumerable.Range(0, 10).Select(t => O(t, 0.85 + (t * 0.01), ObservationState.Complete, 0.5 + (t * 0.001)))
            .Concat(Enumerable.Range(10, 10).Select(t => O(t, 0.05 + ((t - 10) * 0.01), ObservationState.Pruned, 0.9, 1))).ToList();
        var tpe = new TpeSampler(3);
        var xs = Enumerable.Range(20, 20).Select(t => D(tpe.Sample(space, t, history)["x"])).ToList();
        Assert.True(xs.Count(x => x > 0.5) >= 15, $"TPE followed the pruned trials: {string.Join(", ", xs.Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)))}");
    }

    [Fact]
    public void Normal_helpers_are_accurate()
    {
        Assert.Equal(0.5, Normal.Cdf(0), 7);
        Assert.Equal(0.975002105, Normal.Cdf(1.96), 6);
        foreach (var p in new[] { 1e-6, 0.01, 0.3, 0.5, 0.9, 0.999 })
        {
            Assert.Equal(p, Normal.Cdf(Normal.InverseCdf(p)), 6);
        }
    }
}
