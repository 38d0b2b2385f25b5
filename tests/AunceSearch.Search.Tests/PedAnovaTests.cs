using AunceSearch.Model;
using AunceSearch.Search.Importance;

namespace AunceSearch.Search.Tests;

public class PedAnovaTests
{
    /// <summary>Six parameters of every kind; the objective depends on two of them (a log-scale float and a categorical) and noise.</summary>
    private static readonly SearchSpace Space = new([
        new FloatDomain("lr", 1e-5, 1e-1, Log: true),
        new FloatDomain("dropout", 0, 1),
        new IntDomain("layers", 1, 8),
        new CategoricalDomain("optimizer", ["adam", "sgd", "rmsprop"]),
        new FloatDomain("momentum", 0.1, 0.99),
        new IntDomain("width", 16, 1024, Log: true),
    ]);

    private static double Objective(IReadOnlyDictionary<string, string> c, DeterministicRandom noise)
    {
        var lr = Math.Log10(double.Parse(c["lr"], System.Globalization.CultureInfo.InvariantCulture));
        var optimizer = c["optimizer"] switch { "adam" => 0.0, "sgd" => -0.6, _ => -0.3 };
        return (-(lr + 3) * (lr + 3) / 4) + optimizer + (0.05 * noise.NextDouble());   // each of the two spans about as much as the other
    }

    private static List<(IReadOnlyDictionary<string, string>, double)> Trials(ulong seed, int n)
    {
        var sampler = new RandomSampler(seed);
        var noise = new DeterministicRandom(seed, 17);
        return [.. Enumerable.Range(0, n).Select(t =>
        {
            IReadOnlyDictionary<string, string> c = sampler.Sample(Space, t, []);
            return (c, Objective(c, noise));
        })];
    }

    [Fact]
    public void The_two_parameters_that_matter_come_first_in_at_least_95_of_100_seeded_cases()
    {
        var hits = 0;
        for (ulong seed = 1; seed <= 100; seed++)
        {
            var ranking = PedAnova.Evaluate(Space, Trials(seed, 200), Direction.Maximize);
            Assert.Equal(6, ranking.Count);
            Assert.Equal(1.0, ranking.Sum(r => r.Share), 9);
            if (ranking.Take(2).Select(r => r.Parameter).Order().SequenceEqual(["lr", "optimizer"]))
            {
                hits++;
            }
        }

        Console.WriteLine($"PED-ANOVA: the two known parameters ranked first in {hits} of 100 cases");
        Assert.True(hits >= 95, $"the known parameters ranked first in {hits} of 100 cases");
    }

    [Fact]
    public void Minimising_reads_the_lowest_values_as_the_top()
    {
        var flipped = Trials(3, 200).Select(t => (t.Item1, -t.Item2)).ToList();
        var ranking = PedAnova.Evaluate(Space, flipped, Direction.Minimize);
        Assert.Equal(["lr", "optimizer"], ranking.Take(2).Select(r => r.Parameter).Order());
        var wrongWay = PedAnova.Evaluate(Space, flipped, Direction.Maximize);
        Assert.NotEqual(ranking.Select(r => r.Parameter), wrongWay.Select(r => r.Parameter));
    }

    [Fact]
    public void Global_mode_compares_with_the_whole_range()
    {
        // All trials sampled in a corner of lr: locally lr explains nothing more than the rest; globally it stands out.
        var sampler = new RandomSampler(5);
        var noise = new DeterministicRandom(5, 1);
        var trials = Enumerable.Range(0, 200).Select(t =>
        {
            var c = new Dictionary<string, string>(sampler.Sample(Space, t, [])) { ["lr"] = (1e-5 * (1 + (t % 3))).ToString("R", System.Globalization.CultureInfo.InvariantCulture) };
            return ((IReadOnlyDictionary<string, string>)c, noise.NextDouble());
        }).ToList();
        var local = PedAnova.Evaluate(Space, trials, Direction.Maximize).Single(r => r.Parameter == "lr");
        var global = PedAnova.Evaluate(Space, trials, Direction.Maximize, local: false).Single(r => r.Parameter == "lr");
        Assert.True(global.Share > 0.5, $"global share of lr {global.Share:0.000}");
        Assert.True(local.Share < global.Share, $"local {local.Share:0.000} vs global {global.Share:0.000}");
    }

    [Fact]
    public void Too_few_trials_give_no_answer_and_a_bad_quantile_is_refused()
    {
        Assert.Empty(PedAnova.Evaluate(Space, Trials(1, 10), Direction.Maximize));   // ⌈0.1·10⌉ = 1 top trial
        Assert.NotEmpty(PedAnova.Evaluate(Space, Trials(1, 10), Direction.Maximize, quantile: 0.2));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PedAnova.Evaluate(Space, Trials(1, 10), Direction.Maximize, quantile: 1.5));
        Assert.Contains("quantile: must be in (0, 1]", e.Message);
    }
}
