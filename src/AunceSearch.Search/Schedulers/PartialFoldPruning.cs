using System.Globalization;
using AunceSearch.Model;

namespace AunceSearch.Search.Schedulers;

/// <summary>
/// Pruning on partial cross-validation folds ("the fold-bound rule"). A trial's value at an epoch is the mean over its F
/// folds, so before all folds have reported it is unknown — but it is bounded. When k &lt; F folds have reported epoch e,
/// assume the other F − k folds reach <c>bound</c> (the best value any fold of any trial has reported at e so far) and ask
/// the sweep's scheduler, on a copy of its state, what it would decide for that optimistic mean. If even the optimistic
/// mean is stopped, the trial is stopped now, before its remaining folds finish the epoch. The real scheduler state is not
/// touched: the trial never enters a rung with a partial value. It applies to schedulers that stop trials (stopping ASHA,
/// successive halving, asynchronous Hyperband, median/percentile pruning, median stopping); promotion ASHA only pauses.
/// The rule is only as safe as the bound: a later fold that beats every fold seen so far could have saved the trial.
/// </summary>
public static class PartialFoldPruning
{
    /// <summary>(Σ known + (F − k)·bound) / F.</summary>
    public static double OptimisticMean(IReadOnlyList<double> known, int totalFolds, double bound)
    {
        if (known.Count == 0 || known.Count > totalFolds)
        {
            throw new ArgumentException($"known fold values: {known.Count} of {totalFolds} folds");
        }

        return (known.Sum() + ((totalFolds - known.Count) * bound)) / totalFolds;
    }

    /// <summary>
    /// A Stop decision (with its evidence) when the scheduler would stop the trial even at the optimistic fold mean; null
    /// when it would not (wait for the remaining folds). <paramref name="state"/> is left exactly as it was.
    /// </summary>
    public static SchedulerDecision? Decide(ITrialScheduler scheduler, SchedulerState state, int trial, int step,
        IReadOnlyList<double> known, int totalFolds, double bound, Direction direction)
    {
        if (known.Count >= totalFolds)
        {
            return null;
        }

        // The bound must be at least as good as every known fold (a trial's own fold may be the best seen).
        var best = direction == Direction.Maximize ? Math.Max(bound, known.Max()) : Math.Min(bound, known.Min());
        var optimistic = OptimisticMean(known, totalFolds, best);
        var copy = SchedulerStateJson.Deserialize(SchedulerStateJson.Serialize(state));
        var would = scheduler.OnReport(copy, new TrialReport(trial, step, optimistic));
        if (would.Kind != DecisionKind.Stop)
        {
            return null;
        }

        var mean = known.Average();
        var reason = string.Create(CultureInfo.InvariantCulture,
            $"pruned at epoch {step} on {known.Count} of {totalFolds} folds (fold mean so far {mean:0.000}): even if the other " +
            $"{totalFolds - known.Count} fold(s) reached {best:0.000}, the best fold value seen at this epoch, the mean {optimistic:0.000} would be stopped — {would.Reason}");
        return would with { Value = mean, Reason = reason };
    }
}
