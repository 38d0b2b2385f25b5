using AunceSearch.Model;
using AunceSearch.Search.Pruners;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Search.Tests;

public class SchedulerTests
{
    /// <summary>Order-preserving learning curves: trial t has quality q_t; value = q_t·(1 − e^(−step/5)).</summary>
    private static double Quality(int trial) => new DeterministicRandom(99, (ulong)trial).NextDouble();

    private static double Curve(int trial, int step) => Quality(trial) * (1 - Math.Exp(-step / 5.0));

    private static readonly AshaOptions Asha27 = new() { GracePeriod = 1, ReductionFactor = 3, MaxT = 27 };

    [Fact]
    public void Promotion_asha_rungs_end_at_max_t()
    {
        Assert.Equal([1, 3, 9, 27], new AshaPromotionScheduler(Asha27).RungSteps);
        Assert.Equal([1, 2, 4, 5], new AshaPromotionScheduler(new AshaOptions { ReductionFactor = 2, MaxT = 5 }).RungSteps);
        Assert.Equal([3, 9, 27], new AshaPromotionScheduler(Asha27, minEarlyStoppingRate: 1).RungSteps);
    }

    [Fact]
    public void Promotion_asha_promotes_only_from_the_top_fraction_once_per_rung_and_the_best_finishes()
    {
        var asha = new AshaPromotionScheduler(Asha27);
        var result = SweepSimulator.Run(asha, Curve, workers: 4, maxTrials: 40);
        var recorded = new Dictionary<int, int>();
        var promoted = new Dictionary<int, HashSet<int>>();
        foreach (var d in result.Decisions)
        {
            if (d.Kind is DecisionKind.Pause or DecisionKind.Complete && d.Rung is { } rung)
            {
                recorded[rung] = recorded.GetValueOrDefault(rung) + 1;
            }

            if (d.Kind == DecisionKind.Promote)
            {
                var k = d.Rung!.Value;
                var set = promoted.TryGetValue(k, out var p) ? p : promoted[k] = [];
                Assert.True(set.Add(d.Trial), $"trial {d.Trial} promoted twice from rung {k}");
                // The paper's rule (top ⌊n/η⌋ of at least η results) until the trial budget is spent; then at least the best.
                var afterBudget = d.Reason.Contains("once the trial budget is spent", StringComparison.Ordinal);
                Assert.True((d.Competitors >= 3 || afterBudget) && d.Competitors == recorded.GetValueOrDefault(k), $"rung {k}: promoted with {d.Competitors} results");
                Assert.True(d.Rank <= Math.Max(afterBudget ? 1 : 0, d.Competitors / 3), $"trial {d.Trial} promoted from rung {k} at rank {d.Rank} of {d.Competitors}");
            }
        }

        var best = Enumerable.Range(0, 40).OrderByDescending(Quality).First();
        Assert.Contains(result.Decisions, d => d.Trial == best && d.Kind == DecisionKind.Complete);
        Assert.All(Enumerable.Range(0, 40), t => Assert.Contains(result.Decisions, d => d.Trial == t && d.Kind is DecisionKind.Complete or DecisionKind.Stop));
        Assert.True(result.Steps < 40 * 27 / 3, $"promotion ASHA used {result.Steps} steps, more than a third of training all 40 trials fully");
    }

    [Fact]
    public void Synchronous_hyperband_has_the_papers_brackets_and_halving()
    {
        var hb = new SynchronousHyperbandScheduler(81, 3);
        Assert.Equal([81, 34, 15, 8, 5], hb.BracketSizes);
        Assert.Equal([1, 3, 9, 27, 81], Enumerable.Range(0, 5).Select(i => hb.RungStep(0, i)));
        Assert.Equal(81, hb.RungStep(4, 0));
        var result = SweepSimulator.Run(hb, Curve, workers: 6, maxTrials: hb.TotalTrials);
        var bracket0 = Enumerable.Range(0, 81).ToList();
        int Reached(int step) => bracket0.Count(t => result.Finals[t].Step >= step);
        Assert.Equal(81, Reached(1));
        Assert.Equal(27, Reached(3));
        Assert.Equal(9, Reached(9));
        Assert.Equal(3, Reached(27));
        Assert.Equal(1, Reached(81));
        var lastBracket = Enumerable.Range(hb.TotalTrials - 5, 5);
        Assert.All(lastBracket, t => Assert.Equal(81, result.Finals[t].Step));
        var winner = bracket0.OrderByDescending(Quality).First();
        Assert.Equal(81, result.Finals[winner].Step);
    }

    public static TheoryData<string> SchedulerNames() => ["asha-promotion", "asha-stopping", "successive-halving", "hyperband-async", "hyperband-sync", "median-rule", "percentile", "none"];

    private static ITrialScheduler Create(string name) => name switch
    {
        "asha-promotion" => new AshaPromotionScheduler(Asha27),
        "asha-stopping" => new AshaStoppingScheduler(Asha27),
        "successive-halving" => new PrunerScheduler(new SuccessiveHalvingPruner(1, 3, 0, 0, Direction.Maximize), 27, name),
        "hyperband-async" => new PrunerScheduler(new HyperbandPruner(1, 27, 3, 0, "s", Direction.Maximize), 27, name),
        "hyperband-sync" => new SynchronousHyperbandScheduler(27, 3),
        "median-rule" => new PrunerScheduler(new MedianStoppingRule(2, 3, Direction.Maximize), 27, name),
        "percentile" => new PrunerScheduler(new PercentilePruner(25, 3, 1, 1, 1, Direction.Maximize), 27, name),
        _ => new FifoScheduler(27),
    };

    [Theory]
    [MemberData(nameof(SchedulerNames))]
    public void State_serialised_and_restored_after_every_event_gives_identical_decisions(string name)
    {
        double Noisy(int t, int s) => Curve(t, s) + (0.05 * new DeterministicRandom(7, (ulong)t, (ulong)s).NextDouble());
        var plain = SweepSimulator.Run(Create(name), Noisy, workers: 3, maxTrials: 25);
        var restored = SweepSimulator.Run(Create(name), Noisy, workers: 3, maxTrials: 25,
            roundTrip: s => SchedulerStateJson.Deserialize(SchedulerStateJson.Serialize(s)));
        Assert.Equal(plain.Decisions, restored.Decisions);
        Assert.Equal(plain.Steps, restored.Steps);
        if (name != "none")
        {
            Assert.Contains(plain.Decisions, d => d.Kind == DecisionKind.Stop);
        }
    }

    [Theory]
    [MemberData(nameof(SchedulerNames))]
    public void A_state_stored_as_the_old_bag_is_adopted_by_its_scheduler_with_identical_decisions(string name)
    {
        // Before each scheduler had a state type of its own, one bag of every scheduler's fields was stored, with no $kind:
        // the same JSON as today's minus the discriminator (and plus the other schedulers' empty fields).
        double Noisy(int t, int s) => Curve(t, s) + (0.05 * new DeterministicRandom(7, (ulong)t, (ulong)s).NextDouble());
        static string AsBag(SchedulerState state)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(SchedulerStateJson.Serialize(state))!.AsObject();
            Assert.True(node.Remove("$kind"));
            node["ObjectiveRungs"] = new System.Text.Json.Nodes.JsonArray();   // another scheduler's field, as the bag held it
            return node.ToJsonString();
        }

        var scheduler = Create(name);
        var plain = SweepSimulator.Run(Create(name), Noisy, workers: 3, maxTrials: 25);
        var adopted = SweepSimulator.Run(scheduler, Noisy, workers: 3, maxTrials: 25,
            roundTrip: s => scheduler.Adopt(SchedulerStateJson.Deserialize(AsBag(s))));
        Assert.Equal(plain.Decisions, adopted.Decisions);
        Assert.Equal(plain.Steps, adopted.Steps);
    }

    [Fact]
    public void Each_scheduler_owns_a_state_type_and_refuses_another_schedulers()
    {
        string[] names = ["asha-promotion", "asha-stopping", "successive-halving", "hyperband-async", "hyperband-sync", "median-rule", "percentile", "none"];
        var types = names.Select(n => Create(n).NewState().GetType()).Distinct().ToList();
        Assert.Equal(
            [typeof(AshaPromotionState), typeof(AshaStoppingState), typeof(StudySchedulerState), typeof(SynchronousHyperbandState)],
            types.OrderBy(t => t.Name, StringComparer.Ordinal));
        var asha = Create("asha-promotion");
        var e = Assert.Throws<InvalidDataException>(() => asha.Adopt(Create("hyperband-sync").NewState()));
        Assert.Contains("SynchronousHyperbandState is not its own (AshaPromotionState)", e.Message);
        var json = SchedulerStateJson.Serialize(asha.NewState());
        Assert.StartsWith("{\"$kind\":\"asha-promotion\"", json);
        Assert.IsType<AshaPromotionState>(asha.Adopt(SchedulerStateJson.Deserialize(json)));
    }

    [Fact]
    public void Median_stopping_rule_compares_best_so_far_with_the_median_of_running_averages()
    {
        var rule = new MedianStoppingRule(gracePeriod: 1, minSamples: 2, Direction.Maximize);
        var state = new StudyState();
        foreach (var (t, values) in new[] { (0, new[] { 0.2, 0.4, 0.6 }), (1, new[] { 0.4, 0.6, 0.8 }) })
        {
            for (var s = 0; s < values.Length; s++)
            {
                rule.Report(state, t, s + 1, values[s]);
            }

            state.Complete(t);
        }

        // running averages up to step 2: 0.3 and 0.5 → median 0.4
        Assert.Equal(DecisionKind.Continue, rule.Report(state, 5, 0, 0.0).Kind);             // step 0 is within the grace period
        Assert.Equal(DecisionKind.Stop, rule.Report(state, 2, 1, 0.1).Kind);                 // step 1: averages 0.2, 0.4 → median 0.3 > 0.1
        var stop = rule.Report(state, 3, 2, 0.35);
        Assert.Equal(DecisionKind.Stop, stop.Kind);
        Assert.Equal(0.4, stop.Cutoff!.Value, 12);
        Assert.Equal(DecisionKind.Continue, rule.Report(state, 4, 2, 0.45).Kind);
    }

    public static TheoryData<string, int, int> EndOfBudgetCases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var name in new[] { "asha-promotion", "hyperband-sync" })
        {
            foreach (var trials in new[] { 1, 2, 4, 5, 11 })
            {
                foreach (var workers in new[] { 1, 3 })
                {
                    data.Add(name, trials, workers);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EndOfBudgetCases))]
    public void Once_the_trial_budget_is_spent_free_capacity_carries_the_best_trial_to_max_t(string name, int trials, int workers)
    {
        // The demo's case (issue 25): 4 trials, ASHA η = 2 … the best stopped half way, "rank 1 of 1, never in the top 0".
        // With a trial budget and free workers, the best configuration every rung has seen must reach max_t.
        var result = SweepSimulator.Run(Create(name), Curve, workers, maxTrials: trials);
        var best = Enumerable.Range(0, trials).OrderByDescending(Quality).First();
        Assert.Equal(27, result.Finals[best].Step);
        Assert.Contains(result.Decisions, d => d.Trial == best && d.Kind == DecisionKind.Complete);
        Assert.DoesNotContain(result.Decisions, d => d.Kind == DecisionKind.Stop && d.Rank == 1);
        Assert.DoesNotContain(result.Decisions, d => d.Reason.Contains("top 0", StringComparison.Ordinal) && d.Kind == DecisionKind.Stop);
    }

    [Fact]
    public void While_new_trials_may_start_promotion_asha_keeps_the_papers_rule()
    {
        // One result at a rung is not promoted while the budget allows a new configuration instead (Li et al.: ⌊1/η⌋ = 0).
        var asha = new AshaPromotionScheduler(Asha27);
        var state = asha.NewState();
        var first = asha.NextJob(state, true, []).Job!;
        var pause = asha.OnReport(state, new TrialReport(first.Trial, 1, 0.9));
        Assert.Equal(DecisionKind.Pause, pause.Kind);
        var next = asha.NextJob(state, true, []).Job!;
        Assert.True(next.IsNew);
        var promote = asha.NextJob(state, false, [next.Trial]).Job!;
        Assert.Equal((first.Trial, false, 3), (promote.Trial, promote.IsNew, promote.TargetStep));
        Assert.Contains("at least 1 once the trial budget is spent; ⌊1/3⌋ = 0", promote.Decision!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trial_stopped_when_the_sweep_ends_says_why_without_contradiction()
    {
        var asha = new AshaPromotionScheduler(Asha27);
        var state = asha.NewState();
        foreach (var (t, v) in new[] { (0, 0.9), (1, 0.5), (2, 0.4) })
        {
            asha.NextJob(state, true, []);
            asha.OnReport(state, new TrialReport(t, 1, v));
        }

        // The sweep ends (cancelled) before capacity frees up: the best is within the top 1, the others are not.
        var stops = asha.Finish(state).ToDictionary(d => d.Trial);
        Assert.Contains("rank 1 of 3, within the top 1 (⌊3/3⌋), but the sweep ended before capacity freed up", stops[0].Reason, StringComparison.Ordinal);
        Assert.Contains("rank 2 of 3, not in the top 1 (⌊3/3⌋)", stops[1].Reason, StringComparison.Ordinal);
    }
}
