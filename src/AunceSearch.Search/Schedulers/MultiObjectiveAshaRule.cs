using System.Collections.Immutable;
using System.Globalization;
using AunceSearch.Model;

namespace AunceSearch.Search.Schedulers;

/// <summary>
/// Multi-objective ASHA (stopping variant): at each rung the recorded objective vectors are ordered by non-dominated
/// sorting (Pareto front index), ties within a front broken by crowding distance (larger first, as NSGA-II) and then
/// trial number; a trial continues if it is within the top max(1, ⌊n/η⌋) of that order.
/// </summary>
public sealed class MultiObjectiveAshaRule
{
    private readonly IReadOnlyList<int> _milestones;

    public MultiObjectiveAshaRule(AshaOptions options, ImmutableArray<Direction> directions)
    {
        options.Validate();
        if (directions.Length < 2)
        {
            throw new ArgumentException("multi-objective ASHA needs at least two objectives", nameof(directions));
        }

        Options = options;
        Directions = directions;
        _milestones = options.Milestones();
    }

    public AshaOptions Options { get; }

    public ImmutableArray<Direction> Directions { get; }

    public MultiObjectiveAshaState NewState() => new() { Rungs = [.. _milestones.Select(_ => new Dictionary<int, double[]>())] };

    public SchedulerDecision OnReport(MultiObjectiveAshaState state, int trial, int step, double[] values)
    {
        if (values.Length != Directions.Length)
        {
            throw new ArgumentException($"expected {Directions.Length} objective values, got {values.Length}", nameof(values));
        }

        var first = values[0];
        if (step >= Options.MaxT)
        {
            return new SchedulerDecision(trial, step, DecisionKind.Complete, first, null, null, null, null, 0, $"completed at step {step} (max_t {Options.MaxT})");
        }

        for (var k = _milestones.Count - 1; k >= 0; k--)
        {
            var rung = state.Rungs[k];
            if (step < _milestones[k] || rung.ContainsKey(trial))
            {
                continue;
            }

            rung[trial] = values;
            var order = Order(rung);
            var position = order.IndexOf(trial) + 1;
            var keep = Math.Max(1, rung.Count / Options.ReductionFactor);
            var front = Fronts(rung)[trial];
            var ok = position <= keep;
            return new SchedulerDecision(trial, step, ok ? DecisionKind.Continue : DecisionKind.Stop, first, k, _milestones[k], null, position, rung.Count,
                string.Create(CultureInfo.InvariantCulture,
                    $"{(ok ? "continues" : "stopped")} at rung {k} (step {_milestones[k]}): Pareto front {front + 1}, position {position} of {rung.Count}; keeps the top {keep}"));
        }

        return new SchedulerDecision(trial, step, DecisionKind.Continue, first, null, null, null, null, 0, "continues: not a new milestone");
    }

    /// <summary>a dominates b: no worse in every objective and better in at least one.</summary>
    public bool Dominates(double[] a, double[] b)
    {
        var better = false;
        for (var i = 0; i < a.Length; i++)
        {
            var s = Directions[i] == Direction.Maximize ? 1 : -1;
            if (s * a[i] < s * b[i])
            {
                return false;
            }

            better |= s * a[i] > s * b[i];
        }

        return better;
    }

    /// <summary>Front index (0 = non-dominated) of every trial in a rung.</summary>
    public Dictionary<int, int> Fronts(Dictionary<int, double[]> rung)
    {
        var remaining = rung.Keys.ToHashSet();
        var fronts = new Dictionary<int, int>();
        for (var f = 0; remaining.Count > 0; f++)
        {
            var current = remaining.Where(t => !remaining.Any(o => o != t && Dominates(rung[o], rung[t]))).ToList();
            foreach (var t in current)
            {
                fronts[t] = f;
                remaining.Remove(t);
            }
        }

        return fronts;
    }

    private List<int> Order(Dictionary<int, double[]> rung)
    {
        var fronts = Fronts(rung);
        var crowding = new Dictionary<int, double>();
        foreach (var group in fronts.GroupBy(kv => kv.Value, kv => kv.Key))
        {
            var members = group.ToList();
            foreach (var t in members)
            {
                crowding[t] = 0;
            }

            for (var i = 0; i < Directions.Length; i++)
            {
                var sorted = members.OrderBy(t => rung[t][i]).ThenBy(t => t).ToList();
                var span = rung[sorted[^1]][i] - rung[sorted[0]][i];
                crowding[sorted[0]] = crowding[sorted[^1]] = double.PositiveInfinity;
                for (var j = 1; j < sorted.Count - 1; j++)
                {
                    crowding[sorted[j]] += span > 0 ? (rung[sorted[j + 1]][i] - rung[sorted[j - 1]][i]) / span : 0;
                }
            }
        }

        return [.. rung.Keys.OrderBy(t => fronts[t]).ThenByDescending(t => crowding[t]).ThenBy(t => t)];
    }
}
