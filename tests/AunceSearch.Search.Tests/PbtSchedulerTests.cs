using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Search.Tests;

public class PbtSchedulerTests
{
    private static readonly SearchSpace Space = new([
        new FloatDomain("lr", 1e-4, 1e-1, Log: true),
        new IntDomain("batch", 16, 64, Step: 16),
        new CategoricalDomain("enc", ["a", "b", "c"]),
        new SimplexDomain("pos", ["p_max", "p_aug", "p_mix", "p_min"], ImmutableDictionary<string, double>.Empty.Add("p_min", 0)),
    ]);

    private static double D(IReadOnlyDictionary<string, string> c, string k) => double.Parse(c[k], CultureInfo.InvariantCulture);

    private static (PbtExploitRule Pbt, PbtState State, Dictionary<int, IReadOnlyDictionary<string, string>> Configs) Population(int n, double resample = 0.25)
    {
        var pbt = new PbtExploitRule(Space, new PbtOptions { PerturbationInterval = 4, ResampleProbability = resample }, 5);
        var state = new PbtState();
        var configs = new Dictionary<int, IReadOnlyDictionary<string, string>>();
        var sampler = new RandomSampler(1);
        for (var t = 0; t < n; t++)
        {
            configs[t] = sampler.Sample(Space, t);
            pbt.Start(state, t);
        }

        return (pbt, state, configs);
    }

    [Fact]
    public void Bottom_quantile_trials_exploit_top_quantile_ones_and_others_continue()
    {
        var (pbt, state, configs) = Population(8);
        // At step 4 early reporters are ranked among fewer trials; at step 8 everyone is ranked among all eight.
        _ = Enumerable.Range(0, 8).Select(t => pbt.OnReport(state, t, 4, t / 10.0, configs)).ToList();
        var again = Enumerable.Range(0, 8).Select(t => pbt.OnReport(state, t, 8, t / 10.0, configs)).ToList();
        var exploit = again.Where(d => d.Decision.Kind == DecisionKind.Exploit).ToList();
        Assert.Equal([0, 1], exploit.Select(d => d.Decision.Trial));                // q = ceil(8 * 0.25) = 2
        Assert.All(exploit, d => Assert.Contains(d.Source!.Value, new[] { 6, 7 }));
        Assert.All(again.Where(d => d.Decision.Trial >= 2), d => Assert.Equal(DecisionKind.Continue, d.Decision.Kind));
        Assert.Contains("exploits trial", exploit[0].Decision.Reason);
    }

    [Fact]
    public void Explore_perturbs_by_the_factors_within_domains_when_not_resampling()
    {
        var (pbt, _, configs) = Population(2, resample: 0);
        for (var i = 0; i < 50; i++)
        {
            var c = pbt.Explore(configs[0], new DeterministicRandom(9, (ulong)i), 0, i);
            var ratio = D(c, "lr") / D(configs[0], "lr");
            Assert.True(Math.Abs(ratio - 1.2) < 1e-9 || Math.Abs(ratio - 0.8) < 1e-9 || D(c, "lr") is 1e-4 or 1e-1, $"lr ratio {ratio}");
            var delta = Math.Abs(D(c, "batch") - D(configs[0], "batch"));
            Assert.True(delta == 16 || D(c, "batch") is 16 or 64, $"batch moved by {delta}");
            Assert.Equal(1.0, D(c, "p_max") + D(c, "p_aug") + D(c, "p_mix") + D(c, "p_min"), 9);
            Assert.Contains(c["enc"], new[] { "a", "b", "c" });
        }
    }

    [Fact]
    public void A_lone_trial_and_reports_between_intervals_continue_and_state_round_trips()
    {
        var (pbt, state, configs) = Population(1);
        Assert.Equal(DecisionKind.Continue, pbt.OnReport(state, 0, 4, 0.1, configs).Decision.Kind);
        var (pbt2, state2, configs2) = Population(4);
        Assert.Equal(DecisionKind.Continue, pbt2.OnReport(state2, 0, 3, 0.1, configs2).Decision.Kind);
        var restored = JsonSerializer.Deserialize<PbtState>(JsonSerializer.Serialize(state2))!;
        foreach (var t in new[] { 1, 2, 3, 0 })
        {
            Assert.Equal(pbt2.OnReport(state2, t, 4, t / 10.0, configs2), pbt2.OnReport(restored, t, 4, t / 10.0, configs2), new PbtComparer());
        }
    }

    private sealed class PbtComparer : IEqualityComparer<PbtDecision>
    {
        public bool Equals(PbtDecision? x, PbtDecision? y) =>
            x!.Decision == y!.Decision && x.Source == y.Source && (x.Config ?? ImmutableSortedDictionary<string, string>.Empty).SequenceEqual(y.Config ?? ImmutableSortedDictionary<string, string>.Empty);

        public int GetHashCode(PbtDecision obj) => obj.Decision.GetHashCode();
    }
}
