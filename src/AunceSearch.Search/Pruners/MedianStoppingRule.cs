using System.Globalization;
using AunceSearch.Model;

namespace AunceSearch.Search.Pruners;

/// <summary>
/// The median stopping rule of Google Vizier (Golovin et al., KDD 2017), exactly as stated: stop a trial at step t if
/// its best value up to t is strictly worse than the median of the running averages, up to t, of all completed
/// trials. Applies from <see cref="GracePeriod"/> on and once <see cref="MinSamples"/> completed trials have values up to t.
/// (Optuna's MedianPruner compares same-step values instead: that is <see cref="PercentilePruner"/>.)
/// </summary>
public sealed class MedianStoppingRule : IPruner
{
    public MedianStoppingRule(int gracePeriod, int minSamples, Direction direction)
    {
        if (gracePeriod < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(gracePeriod), gracePeriod, "grace_period must be >= 0");
        }

        if (minSamples < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(minSamples), minSamples, "min_samples must be >= 1");
        }

        GracePeriod = gracePeriod;
        MinSamples = minSamples;
        Direction = direction;
    }

    public int GracePeriod { get; }

    public int MinSamples { get; }

    public Direction Direction { get; }

    public SchedulerDecision Report(StudyState state, int trial, int step, double value)
    {
        var me = state.Trial(trial);
        me.Values[step] = value;
        SchedulerDecision Continue(string why) => new(trial, step, DecisionKind.Continue, value, null, null, null, null, 0, "continues: " + why);
        if (step < GracePeriod)
        {
            return Continue($"step {step} is within the grace period ({GracePeriod})");
        }

        var averages = state.Trials.Where(t => t.Key != trial && t.Value.Phase == TrialPhase.Complete)
            .Select(t => t.Value.Values.Where(kv => kv.Key <= step && !double.IsNaN(kv.Value)).Select(kv => kv.Value).ToList())
            .Where(v => v.Count > 0)
            .Select(v => v.Average())
            .ToList();
        if (averages.Count < MinSamples)
        {
            return Continue($"{averages.Count} completed trials with values up to step {step}, fewer than {MinSamples}");
        }

        var mine = me.Values.Where(kv => kv.Key <= step && !double.IsNaN(kv.Value)).Select(kv => kv.Value).ToList();
        if (mine.Count == 0)
        {
            return new SchedulerDecision(trial, step, DecisionKind.Stop, value, null, step, null, null, averages.Count, $"stopped at step {step}: every value is NaN");
        }

        var best = Direction == Direction.Maximize ? mine.Max() : mine.Min();
        var median = Percentile.Linear(averages, 50);
        var stop = Direction == Direction.Maximize ? best < median : best > median;
        var reason = string.Create(CultureInfo.InvariantCulture,
            $"{(stop ? "stopped" : "continues")} at step {step}: best so far {best:0.0000} {(stop ? "is worse than" : "is not worse than")} the median {median:0.0000} of {averages.Count} completed trials' running averages");
        return new SchedulerDecision(trial, step, stop ? DecisionKind.Stop : DecisionKind.Continue, value, null, step, median, null, averages.Count + 1, reason);
    }
}
