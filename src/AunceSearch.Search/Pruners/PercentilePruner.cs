using System.Globalization;
using AunceSearch.Model;

namespace AunceSearch.Search.Pruners;

/// <summary>
/// Optuna 3.1's <c>PercentilePruner</c> (and <c>MedianPruner</c> = percentile 50): prune when the trial's best value
/// so far is worse than the given percentile of the completed trials' values at the same step.
/// </summary>
public sealed class PercentilePruner : IPruner
{
    public PercentilePruner(double percentile, int startupTrials, int warmupSteps, int intervalSteps, int minTrials, Direction direction)
    {
        if (percentile is < 0 or > 100 || double.IsNaN(percentile))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "percentile must be between 0 and 100");
        }

        if (startupTrials < 0 || warmupSteps < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(startupTrials), "n_startup_trials and n_warmup_steps must be >= 0");
        }

        if (intervalSteps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(intervalSteps), intervalSteps, "interval_steps must be >= 1");
        }

        if (minTrials < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(minTrials), minTrials, "n_min_trials must be >= 1");
        }

        PercentileValue = percentile;
        StartupTrials = startupTrials;
        WarmupSteps = warmupSteps;
        IntervalSteps = intervalSteps;
        MinTrials = minTrials;
        Direction = direction;
    }

    /// <summary>Optuna's MedianPruner.</summary>
    public static PercentilePruner Median(int startupTrials, int warmupSteps, int intervalSteps, int minTrials, Direction direction) =>
        new(50.0, startupTrials, warmupSteps, intervalSteps, minTrials, direction);

    public double PercentileValue { get; }

    public int StartupTrials { get; }

    public int WarmupSteps { get; }

    public int IntervalSteps { get; }

    public int MinTrials { get; }

    public Direction Direction { get; }

    public SchedulerDecision Report(StudyState state, int trial, int step, double value)
    {
        var me = state.Trial(trial);
        var previous = me.Values.Keys.Where(s => s < step).DefaultIfEmpty(-1).Max();
        me.Values[step] = value;
        SchedulerDecision Continue(string why) => new(trial, step, DecisionKind.Continue, value, null, null, null, null, 0, "continues: " + why);

        var completed = state.Trials.Where(t => t.Value.Phase == TrialPhase.Complete).ToList();
        if (completed.Count == 0 || completed.Count < StartupTrials)
        {
            return Continue($"{completed.Count} completed trials, pruning starts after {Math.Max(1, StartupTrials)}");
        }

        if (step < WarmupSteps)
        {
            return Continue($"step {step} is within the {WarmupSteps} warm-up steps");
        }

        var boundary = ((step - WarmupSteps) / IntervalSteps * IntervalSteps) + WarmupSteps;
        if (previous >= boundary)
        {
            return Continue($"already checked since step {boundary} (interval {IntervalSteps})");
        }

        var finite = me.Values.Values.Where(v => !double.IsNaN(v)).ToList();
        if (finite.Count == 0)
        {
            return new SchedulerDecision(trial, step, DecisionKind.Stop, value, null, step, null, null, 0, $"pruned at step {step}: every reported value is NaN");
        }

        var best = Direction == Direction.Minimize ? finite.Min() : finite.Max();
        var values = completed.Where(t => t.Value.Values.ContainsKey(step)).Select(t => t.Value.Values[step]).ToList();
        if (values.Count < MinTrials)
        {
            return Continue($"{values.Count} completed trials reported step {step}, fewer than n_min_trials {MinTrials}");
        }

        var q = Direction == Direction.Minimize ? PercentileValue : 100 - PercentileValue;
        var cutoff = Percentile.Linear([.. values.Where(v => !double.IsNaN(v))], q);
        if (double.IsNaN(cutoff))
        {
            return Continue($"every completed trial's value at step {step} is NaN");
        }

        var prune = Direction == Direction.Minimize ? best > cutoff : best < cutoff;
        var rank = 1 + (Direction == Direction.Minimize ? values.Count(v => v < best) : values.Count(v => v > best));
        var cmp = prune ? (Direction == Direction.Minimize ? ">" : "<") : (Direction == Direction.Minimize ? "<=" : ">=");
        var reason = string.Create(CultureInfo.InvariantCulture,
            $"{(prune ? "pruned" : "continues")} at step {step}: best {best:G6} {cmp} the {PercentileValue:0.##}th percentile {cutoff:G6} of {values.Count} completed trials");
        return new SchedulerDecision(trial, step, prune ? DecisionKind.Stop : DecisionKind.Continue, value, null, step, cutoff, rank, values.Count + 1, reason);
    }
}
