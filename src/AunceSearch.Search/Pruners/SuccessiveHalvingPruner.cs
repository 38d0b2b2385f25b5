using System.Globalization;
using AunceSearch.Model;

namespace AunceSearch.Search.Pruners;

/// <summary>
/// Asynchronous successive halving exactly as Optuna 3.1's <c>SuccessiveHalvingPruner</c> decides (stopping variant,
/// competitors include the trial itself, ties promoted, NaN prunes at a promotion step, bootstrap trials pruned).
/// </summary>
public sealed class SuccessiveHalvingPruner : IPruner
{
    private readonly Func<int, bool>? _sameGroup;

    /// <param name="sameGroup">Which other trials compete (Hyperband: the same bracket); null = all.</param>
    public SuccessiveHalvingPruner(int minResource, int reductionFactor, int minEarlyStoppingRate, int bootstrapCount, Direction direction,
        Func<int, bool>? sameGroup = null)
    {
        if (minResource < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(minResource), minResource, "min_resource must be >= 1");
        }

        if (reductionFactor < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(reductionFactor), reductionFactor, "reduction_factor must be >= 2");
        }

        if (minEarlyStoppingRate < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(minEarlyStoppingRate), minEarlyStoppingRate, "min_early_stopping_rate must be >= 0");
        }

        if (bootstrapCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bootstrapCount), bootstrapCount, "bootstrap_count must be >= 0");
        }

        MinResource = minResource;
        ReductionFactor = reductionFactor;
        MinEarlyStoppingRate = minEarlyStoppingRate;
        BootstrapCount = bootstrapCount;
        Direction = direction;
        _sameGroup = sameGroup;
    }

    public int MinResource { get; }

    public int ReductionFactor { get; }

    public int MinEarlyStoppingRate { get; }

    public int BootstrapCount { get; }

    public Direction Direction { get; }

    public SchedulerDecision Report(StudyState state, int trial, int step, double value)
    {
        var me = state.Trial(trial);
        me.Values[step] = value;
        while (true)
        {
            var rung = me.Rungs.Count;
            var promotionStep = MinResource * Math.Pow(ReductionFactor, MinEarlyStoppingRate + rung);
            if (step < promotionStep)
            {
                return new SchedulerDecision(trial, step, DecisionKind.Continue, value, rung > 0 ? rung - 1 : null, null, null, null, 0,
                    rung == 0 ? $"continues: step {step} is before the first rung (step {promotionStep})"
                              : $"continues: promoted to rung {rung}; next rung at step {promotionStep}");
            }

            if (double.IsNaN(value))
            {
                return new SchedulerDecision(trial, step, DecisionKind.Stop, value, rung, (int)promotionStep, null, null, 0,
                    $"pruned at rung {rung} (step {promotionStep}): the value is NaN");
            }

            var competing = new List<double>();
            foreach (var (number, other) in state.Trials)
            {
                if (number != trial && other.Rungs.Count > rung && (_sameGroup is null || _sameGroup(number)))
                {
                    competing.Add(other.Rungs[rung]);
                }
            }

            competing.Add(value);
            me.Rungs.Add(value);
            if (competing.Count <= BootstrapCount)
            {
                return new SchedulerDecision(trial, step, DecisionKind.Stop, value, rung, (int)promotionStep, null, null, competing.Count,
                    $"pruned at rung {rung} (step {promotionStep}): among the first {BootstrapCount} bootstrap trials");
            }

            var k = Math.Max((competing.Count / ReductionFactor) - 1, 0);
            competing.Sort();
            var n = competing.Count;
            var cutoff = Direction == Direction.Minimize ? competing[k] : competing[n - 1 - k];
            var promoted = Direction == Direction.Minimize ? value <= cutoff : value >= cutoff;
            var rank = 1 + (Direction == Direction.Minimize ? competing.Count(v => v < value) : competing.Count(v => v > value));
            if (!promoted)
            {
                var cmp = Direction == Direction.Minimize ? ">" : "<";
                return new SchedulerDecision(trial, step, DecisionKind.Stop, value, rung, (int)promotionStep, cutoff, rank, n,
                    string.Create(CultureInfo.InvariantCulture,
                        $"pruned at rung {rung} (step {promotionStep}): {value:G6} {cmp} cutoff {cutoff:G6} (rank {rank} of {n}, keeps top {k + 1})"));
            }
        }
    }
}
