using AunceSearch.Model;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Search.Tests;

public class PartialFoldPruningTests
{
    private static (ITrialScheduler Scheduler, SchedulerState State) AshaWithRung(Direction direction = Direction.Maximize)
    {
        var asha = new AshaStoppingScheduler(new AshaOptions { GracePeriod = 1, ReductionFactor = 2, MaxT = 4, Direction = direction, SmallRungPolicy = SmallRungPolicy.Optuna });
        var state = asha.NewState();
        var values = direction == Direction.Maximize ? new[] { 0.50, 0.55, 0.60, 0.65 } : [0.50, 0.45, 0.40, 0.35];
        for (var t = 0; t < values.Length; t++)
        {
            asha.OnReport(state, new TrialReport(t, 1, values[t]));
        }

        return (asha, state);
    }

    [Fact]
    public void Optimistic_mean_fills_the_missing_folds_with_the_bound()
    {
        Assert.Equal((0.3 + 0.6 + 0.6) / 3, PartialFoldPruning.OptimisticMean([0.3], 3, 0.6), 12);
        Assert.Throws<ArgumentException>(() => PartialFoldPruning.OptimisticMean([], 3, 0.6));
    }

    [Fact]
    public void A_trial_hopeless_even_at_the_bound_is_stopped_on_one_fold_and_the_state_is_untouched()
    {
        var (asha, state) = AshaWithRung();
        var before = SchedulerStateJson.Serialize(state);
        // Rung 1 keeps the top half of {0.50, 0.55, 0.60, 0.65, x}; with one fold at 0.20 and two at the bound 0.62 the
        // mean is 0.48: below the cutoff.
        var d = PartialFoldPruning.Decide(asha, state, 9, 1, [0.20], 3, 0.62, Direction.Maximize);
        Assert.NotNull(d);
        Assert.Equal(DecisionKind.Stop, d.Kind);
        Assert.Equal(9, d.Trial);
        Assert.Equal(0.20, d.Value, 12);
        Assert.Contains("on 1 of 3 folds", d.Reason);
        Assert.Contains("0.620", d.Reason);
        Assert.Equal(before, SchedulerStateJson.Serialize(state));
    }

    [Fact]
    public void A_trial_that_could_still_reach_the_cutoff_waits_for_its_folds()
    {
        var (asha, state) = AshaWithRung();
        Assert.Null(PartialFoldPruning.Decide(asha, state, 9, 1, [0.58], 3, 0.62, Direction.Maximize));
        // Its own fold is better than the bound: the bound rises to it, never below a known fold.
        Assert.Null(PartialFoldPruning.Decide(asha, state, 9, 1, [0.90], 3, 0.10, Direction.Maximize));
        // All folds known: nothing partial to decide.
        Assert.Null(PartialFoldPruning.Decide(asha, state, 9, 1, [0.1, 0.1, 0.1], 3, 0.62, Direction.Maximize));
    }

    [Fact]
    public void Minimisation_uses_the_lowest_fold_value_as_the_bound()
    {
        var (asha, state) = AshaWithRung(Direction.Minimize);
        var d = PartialFoldPruning.Decide(asha, state, 9, 1, [0.90], 2, 0.30, Direction.Minimize);
        Assert.Equal(DecisionKind.Stop, d!.Kind);
        Assert.Null(PartialFoldPruning.Decide(asha, state, 9, 1, [0.40], 2, 0.30, Direction.Minimize));
    }

    [Fact]
    public void Promotion_asha_never_stops_on_partial_folds()
    {
        var asha = new AshaPromotionScheduler(new AshaOptions { GracePeriod = 1, ReductionFactor = 2, MaxT = 4 });
        var state = asha.NewState();
        for (var t = 0; t < 4; t++)
        {
            asha.NextJob(state, true, []);
            asha.OnReport(state, new TrialReport(t, 1, 0.5 + (0.05 * t)));
        }

        Assert.Null(PartialFoldPruning.Decide(asha, state, 3, 1, [0.0], 3, 0.6, Direction.Maximize));
    }
}
