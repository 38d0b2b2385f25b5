using System.Collections.Immutable;
using System.Globalization;

namespace AunceSearch.Search.Tests;

public class RandomSamplerTests
{
    private static readonly SearchSpace Space = new([
        new FloatDomain("lr", 1e-4, 1e-2, Log: true),
        new FloatDomain("lambda_min", 0.8, 1.6),
        new IntDomain("batch_size", 16, 64, Step: 16),
        new CategoricalDomain("encoder", ["a", "b", "c"]),
        new SimplexDomain("positives", ["p_max", "p_aug", "p_mix", "p_min"], ImmutableDictionary<string, double>.Empty.Add("p_min", 0)),
    ]);

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    public void Same_seed_and_trial_give_the_same_configuration_in_any_order()
    {
        var a = new RandomSampler(42);
        var b = new RandomSampler(42);
        var forward = Enumerable.Range(0, 20).Select(i => a.Sample(Space, i)).ToList();
        var backward = Enumerable.Range(0, 20).Reverse().Select(i => b.Sample(Space, i)).Reverse().ToList();
        for (var i = 0; i < forward.Count; i++)
        {
            Assert.Equal(forward[i].ToArray(), backward[i].ToArray());
        }

        Assert.NotEqual(forward[0]["lr"], forward[1]["lr"]);
    }

    [Fact]
    public void Different_seeds_give_different_configurations()
    {
        Assert.NotEqual(new RandomSampler(1).Sample(Space, 0)["lr"], new RandomSampler(2).Sample(Space, 0)["lr"]);
    }

    [Fact]
    public void Values_respect_their_domains_and_the_simplex_sums_to_one()
    {
        var sampler = new RandomSampler(7);
        for (var i = 0; i < 500; i++)
        {
            var c = sampler.Sample(Space, i);
            Assert.InRange(D(c["lr"]), 1e-4, 1e-2);
            Assert.InRange(D(c["lambda_min"]), 0.8, 1.6);
            Assert.Contains(c["batch_size"], new[] { "16", "32", "48", "64" });
            Assert.Contains(c["encoder"], new[] { "a", "b", "c" });
            Assert.Equal(0.0, D(c["p_min"]));
            Assert.Equal(1.0, D(c["p_max"]) + D(c["p_aug"]) + D(c["p_mix"]) + D(c["p_min"]), 12);
            Assert.All(new[] { "p_max", "p_aug", "p_mix" }, p => Assert.InRange(D(c[p]), 0.0, 1.0));
        }
    }

    [Fact]
    public void Log_uniform_spreads_over_decades()
    {
        var sampler = new RandomSampler(3);
        var below1e3 = Enumerable.Range(0, 2000).Count(i => D(sampler.Sample(Space, i)["lr"]) < 1e-3);
        Assert.InRange(below1e3 / 2000.0, 0.45, 0.55);
    }

    [Fact]
    public void Adding_a_parameter_does_not_change_the_others()
    {
        var smaller = new SearchSpace([new FloatDomain("lr", 1e-4, 1e-2, Log: true)]);
        var sampler = new RandomSampler(9);
        Assert.Equal(sampler.Sample(smaller, 4)["lr"], sampler.Sample(Space, 4)["lr"]);
    }

    [Fact]
    public void Duplicate_parameter_names_are_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new SearchSpace([new FloatDomain("p_max", 0, 1), Space.Domains[4]]));
        Assert.Contains("p_max", e.Message);
    }
}
