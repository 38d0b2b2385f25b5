using System.Text.Json;
using AunceSearch.Model;

namespace AunceSearch.Search.Tests;

public class AshaSchedulerTests
{
    private static AshaStoppingRule Asha(SmallRungPolicy policy = SmallRungPolicy.Ray, Direction direction = Direction.Maximize, int rf = 2, int maxT = 8) =>
        new(new AshaOptions { GracePeriod = 1, ReductionFactor = rf, MaxT = maxT, SmallRungPolicy = policy, Direction = direction });

    [Fact]
    public void Milestones_are_grace_times_powers_of_eta_below_max_t()
    {
        Assert.Equal([1, 2, 4], Asha().Milestones);
        Assert.Equal([1, 4, 16, 64], new AshaStoppingRule(new AshaOptions { MaxT = 100 }).Milestones);
    }

    [Fact]
    public void Ray_policy_first_trial_continues_and_a_worse_one_stops_with_evidence()
    {
        var asha = Asha();
        var state = asha.NewState();
        var first = asha.OnReport(state, new TrialReport(0, 1, 0.5));
        Assert.Equal(DecisionKind.Continue, first.Kind);
        var worse = asha.OnReport(state, new TrialReport(1, 1, 0.4));
        Assert.Equal(DecisionKind.Stop, worse.Kind);
        Assert.Equal(0, worse.Rung);
        Assert.Equal(1, worse.Milestone);
        Assert.Equal(0.5, worse.Cutoff);
        Assert.Equal(2, worse.Rank);
        Assert.Contains("stopped at rung 0 (step 1): 0.4000 < cutoff 0.5000 (rank 2 of 2", worse.Reason);
        var better = asha.OnReport(state, new TrialReport(2, 1, 0.6));
        Assert.Equal(DecisionKind.Continue, better.Kind);
    }

    [Fact]
    public void Ray_cutoff_is_numpys_linear_percentile_of_earlier_entries()
    {
        // rf 4 → 75th percentile of [0.1, 0.2, 0.3, 0.4] = 0.325
        var asha = Asha(rf: 4, maxT: 100);
        var state = asha.NewState();
        foreach (var (t, v) in new[] { (0, 0.1), (1, 0.2), (2, 0.3), (3, 0.4) })
        {
            asha.OnReport(state, new TrialReport(t, 1, v));
        }

        var d = asha.OnReport(state, new TrialReport(4, 1, 0.32));
        Assert.Equal(DecisionKind.Stop, d.Kind);
        Assert.Equal(0.325, d.Cutoff!.Value, 12);
        Assert.Equal(DecisionKind.Continue, asha.OnReport(state, new TrialReport(5, 1, 0.33)).Kind);
    }

    [Fact]
    public void Optuna_policy_requires_best_so_far_until_eta_competitors()
    {
        var asha = Asha(SmallRungPolicy.Optuna, rf: 3);
        var state = asha.NewState();
        Assert.Equal(DecisionKind.Continue, asha.OnReport(state, new TrialReport(0, 1, 0.5)).Kind);
        Assert.Equal(DecisionKind.Stop, asha.OnReport(state, new TrialReport(1, 1, 0.49)).Kind);
        Assert.Equal(DecisionKind.Continue, asha.OnReport(state, new TrialReport(2, 1, 0.5)).Kind); // ties are promoted
    }

    [Fact]
    public void Minimize_flips_the_comparison()
    {
        var asha = Asha(direction: Direction.Minimize);
        var state = asha.NewState();
        asha.OnReport(state, new TrialReport(0, 1, 1.0));
        Assert.Equal(DecisionKind.Continue, asha.OnReport(state, new TrialReport(1, 1, 0.5)).Kind);
        var d = asha.OnReport(state, new TrialReport(2, 1, 2.0));
        Assert.Equal(DecisionKind.Stop, d.Kind);
        Assert.Contains("2.0000 >", d.Reason);
    }

    [Fact]
    public void One_milestone_is_evaluated_per_report_highest_first_and_non_milestones_continue()
    {
        var asha = Asha();
        var state = asha.NewState();
        var d = asha.OnReport(state, new TrialReport(0, 3, 0.5));   // skipped steps 1 and 2
        Assert.Equal(1, d.Rung);
        Assert.Empty(state.Rungs[0]);
        var lower = asha.OnReport(state, new TrialReport(0, 3, 0.5));   // as Ray: the next report records the lower rung
        Assert.Equal(0, lower.Rung);
        var again = asha.OnReport(state, new TrialReport(0, 3, 0.5));
        Assert.Equal(DecisionKind.Continue, again.Kind);
        Assert.Null(again.Rung);
    }

    [Fact]
    public void Reaching_max_t_completes_and_nan_stops()
    {
        var asha = Asha();
        var state = asha.NewState();
        Assert.Equal(DecisionKind.Complete, asha.OnReport(state, new TrialReport(0, 8, 0.5)).Kind);
        Assert.Equal(DecisionKind.Stop, asha.OnReport(state, new TrialReport(1, 1, double.NaN)).Kind);
    }

    [Fact]
    public void State_restored_from_json_at_any_point_makes_identical_decisions()
    {
        var rng = new Random(11);
        var reports = Enumerable.Range(0, 60).Select(i => new TrialReport(i % 12, 1 + (i / 12), rng.NextDouble())).ToList();
        var asha = Asha(maxT: 16);
        var reference = asha.NewState();
        var expected = reports.Select(r => asha.OnReport(reference, r)).ToList();
        for (var cut = 0; cut <= reports.Count; cut++)
        {
            var state = asha.NewState();
            for (var i = 0; i < cut; i++)
            {
                asha.OnReport(state, reports[i]);
            }

            var restored = JsonSerializer.Deserialize<AshaState>(JsonSerializer.Serialize(state))!;
            var fresh = new AshaStoppingRule(asha.Options);
            for (var i = cut; i < reports.Count; i++)
            {
                Assert.Equal(expected[i], fresh.OnReport(restored, reports[i]));
            }
        }
    }

    [Theory]
    [InlineData(0, 2, 8)]
    [InlineData(1, 1, 8)]
    [InlineData(4, 2, 2)]
    public void Invalid_options_name_the_setting(int grace, int rf, int maxT)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new AshaStoppingRule(new AshaOptions { GracePeriod = grace, ReductionFactor = rf, MaxT = maxT }));
        Assert.Matches("grace_period|reduction_factor|max_t", e.Message);
    }

    [Fact]
    public void Percentile_matches_numpy_linear()
    {
        Assert.Equal(2.5, Percentile.Linear([1.0, 2.0, 3.0, 4.0], 50), 12);
        Assert.Equal(3.25, Percentile.Linear([1.0, 2.0, 3.0, 4.0], 75), 12);
        Assert.Equal(4.0, Percentile.Linear([4.0, 1.0], 100), 12);
        Assert.True(double.IsNaN(Percentile.Linear([], 50)));
    }
}
