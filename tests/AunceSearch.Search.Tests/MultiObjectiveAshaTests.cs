using AunceSearch.Model;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Search.Tests;

public class MultiObjectiveAshaTests
{
    private static MultiObjectiveAshaRule Create() =>
        new(new AshaOptions { GracePeriod = 1, ReductionFactor = 2, MaxT = 8 }, [Direction.Maximize, Direction.Minimize]);   // F1 up, size down

    [Fact]
    public void Non_dominated_sorting_and_domination_respect_directions()
    {
        var mo = Create();
        Assert.True(mo.Dominates([0.6, 10], [0.5, 20]));
        Assert.False(mo.Dominates([0.6, 30], [0.5, 20]));
        var fronts = mo.Fronts(new Dictionary<int, double[]> { [0] = [0.6, 10], [1] = [0.5, 20], [2] = [0.7, 30], [3] = [0.4, 40] });
        Assert.Equal(0, fronts[0]);
        Assert.Equal(0, fronts[2]);
        Assert.Equal(1, fronts[1]);
        Assert.Equal(2, fronts[3]);
    }

    [Fact]
    public void A_dominated_trial_stops_and_pareto_optimal_ones_continue()
    {
        var mo = Create();
        var s = mo.NewState();
        Assert.Equal(DecisionKind.Continue, mo.OnReport(s, 0, 1, [0.40, 60]).Kind);   // first at the rung
        Assert.Equal(DecisionKind.Continue, mo.OnReport(s, 1, 1, [0.45, 50]).Kind);   // dominates trial 0
        Assert.Equal(DecisionKind.Continue, mo.OnReport(s, 2, 1, [0.70, 30]).Kind);   // dominates both
        Assert.Equal(DecisionKind.Continue, mo.OnReport(s, 3, 1, [0.80, 35]).Kind);   // trade-off with 2: front 1 holds {2, 3}, keep 2 of 4
        var d = mo.OnReport(s, 4, 1, [0.30, 70]);                                      // dominated by all
        Assert.Equal(DecisionKind.Stop, d.Kind);
        Assert.Contains("Pareto front 4, position 5 of 5; keeps the top 2", d.Reason);
        Assert.Equal(DecisionKind.Complete, mo.OnReport(s, 0, 8, [0.6, 10]).Kind);
        Assert.Throws<ArgumentException>(() => mo.OnReport(s, 3, 1, [0.5]));
    }
}

public class MultiObjectiveAshaSchedulerTests
{
    private static MultiObjectiveAshaScheduler Create() =>
        new(new MultiObjectiveAshaRule(new AshaOptions { GracePeriod = 1, ReductionFactor = 2, MaxT = 4 }, [Direction.Maximize, Direction.Minimize]));

    [Fact]
    public void A_dominated_trial_stops_at_the_rung_and_a_restored_state_decides_the_same()
    {
        var s = Create();
        var state = s.NewState();
        Assert.Equal(0, s.NextJob(state, true, []).Job!.Trial);
        Assert.Equal(4, s.NextJob(state, true, []).Job!.TargetStep);
        Assert.Equal(DecisionKind.Continue, s.OnReport(state, new TrialReport(0, 1, 0.6, [0.6, 10])).Kind);   // alone: keeps 1
        var copy = SchedulerStateJson.Deserialize(SchedulerStateJson.Serialize(state));
        var d = s.OnReport(state, new TrialReport(1, 1, 0.5, [0.5, 12]));                                      // worse in both
        Assert.Equal(DecisionKind.Stop, d.Kind);
        Assert.Contains("Pareto front 2", d.Reason);
        Assert.Equal(0.5, d.Value);
        Assert.Equal(d, s.OnReport(copy, new TrialReport(1, 1, 0.5, [0.5, 12])));
        var fast = s.OnReport(state, new TrialReport(2, 1, 0.4, [0.4, 5]));                                     // on the front: faster
        Assert.Contains("Pareto front 1", fast.Reason);
        Assert.Equal(DecisionKind.Complete, s.OnReport(state, new TrialReport(0, 4, 0.7, [0.7, 10])).Kind);
    }

    [Fact]
    public void A_report_without_objectives_is_an_error_naming_trial_and_step()
    {
        var s = Create();
        var e = Assert.Throws<ArgumentException>(() => s.OnReport(s.NewState(), new TrialReport(3, 1, 0.5)));
        Assert.Contains("trial 3 step 1", e.Message);
    }
}
