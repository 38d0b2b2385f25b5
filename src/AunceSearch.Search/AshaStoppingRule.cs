using System.Globalization;
using AunceSearch.Model;

namespace AunceSearch.Search;

/// <summary>
/// Asynchronous successive halving, stopping variant (Li et al. 2020; Ray's ASHAScheduler): a trial that reaches
/// a rung's milestone continues only if it is in the top 1/η of the values recorded at that rung. A pure function
/// of (state, report): no clock, no randomness, no side effects beyond the state passed in.
/// </summary>
public sealed class AshaStoppingRule
{
    private const string NotAMilestone = "continues: not a new milestone";
    private readonly IReadOnlyList<int> _milestones;

    public AshaStoppingRule(AshaOptions options)
    {
        options.Validate();
        Options = options;
        _milestones = options.Milestones();
    }

    public AshaOptions Options { get; }

    public IReadOnlyList<int> Milestones => _milestones;

    public AshaState NewState()
    {
        var state = new AshaState();
        foreach (var _ in _milestones)
        {
            state.Rungs.Add([]);
        }

        return state;
    }

    /// <summary>Decides on a report and records it in <paramref name="state"/>.</summary>
    public SchedulerDecision OnReport(AshaState state, TrialReport report)
    {
        var sign = Options.Direction == Direction.Maximize ? 1.0 : -1.0;
        if (report.Step >= Options.MaxT)
        {
            return Decision(report, DecisionKind.Complete, null, null, null, null, 0,
                $"completed at step {report.Step} (max_t {Options.MaxT})");
        }

        // Only the highest milestone the trial has reached and not yet recorded is evaluated (as Ray does).
        for (var k = _milestones.Count - 1; k >= 0; k--)
        {
            var milestone = _milestones[k];
            var rung = state.Rungs[k];
            if (report.Step < milestone || rung.ContainsKey(report.Trial))
            {
                continue;
            }

            if (double.IsNaN(report.Value))
            {
                var sorted = SortedSigned(state, k, sign);
                rung[report.Trial] = double.NaN;
                state.Order[k] = (rung.Count, sorted);
                return Decision(report, DecisionKind.Stop, k, milestone, null, null, rung.Count,
                    $"stopped at rung {k} (step {milestone}): the metric is NaN");
            }

            var others = SortedSigned(state, k, sign);
            var signed = sign * report.Value;
            var decision = Options.SmallRungPolicy == SmallRungPolicy.Ray
                ? DecideRay(report, k, milestone, others, signed, sign)
                : DecideOptuna(report, k, milestone, others, signed, sign);
            rung[report.Trial] = report.Value;
            var at = others.BinarySearch(signed);
            others.Insert(at < 0 ? ~at : at, signed);
            state.Order[k] = (rung.Count, others);
            return decision;
        }

        return Decision(report, DecisionKind.Continue, null, null, null, null, 0, NotAMilestone);
    }

    /// <summary>The rung's non-NaN values in signed form, ascending (from the cache, rebuilt if stale).</summary>
    private static List<double> SortedSigned(AshaState state, int k, double sign)
    {
        while (state.Order.Count < state.Rungs.Count)
        {
            state.Order.Add(null);
        }

        var rung = state.Rungs[k];
        if (state.Order[k] is { } cached && cached.Count == rung.Count)
        {
            return cached.Sorted;
        }

        var sorted = rung.Values.Where(v => !double.IsNaN(v)).Select(v => sign * v).ToList();
        sorted.Sort();
        state.Order[k] = (rung.Count, sorted);
        return sorted;
    }

    private SchedulerDecision DecideRay(TrialReport report, int k, int milestone, List<double> others, double signed, double sign)
    {
        if (others.Count == 0)
        {
            return Decision(report, DecisionKind.Continue, k, milestone, null, 1, 1,
                $"continues at rung {k} (step {milestone}): first to reach it");
        }

        var cutoff = Percentile.LinearSorted(others, 100.0 * (1.0 - (1.0 / Options.ReductionFactor)));
        var rank = 1 + CountAbove(others, signed);
        var keep = signed >= cutoff;
        var verb = keep ? "continues" : "stopped";
        var cmp = keep ? ">=" : "<";
        return Decision(report, keep ? DecisionKind.Continue : DecisionKind.Stop, k, milestone, sign * cutoff, rank, others.Count + 1,
            $"{verb} at rung {k} (step {milestone}): {Fmt(report.Value)} {Cmp(cmp, sign)} cutoff {Fmt(sign * cutoff)} " +
            $"(rank {rank} of {others.Count + 1}, keeps top 1/{Options.ReductionFactor})");
    }

    private SchedulerDecision DecideOptuna(TrialReport report, int k, int milestone, List<double> others, double signed, double sign)
    {
        var n = others.Count + 1;
        var idx = Math.Max((n / Options.ReductionFactor) - 1, 0);
        // competing = others + [signed], sorted descending; element idx of it:
        var above = CountAbove(others, signed);
        var cutoff = idx < above ? others[others.Count - 1 - idx] : idx == above ? signed : others[others.Count - idx];
        var rank = 1 + above;
        var keep = signed >= cutoff;
        var verb = keep ? "continues" : "stopped";
        var cmp = keep ? ">=" : "<";
        return Decision(report, keep ? DecisionKind.Continue : DecisionKind.Stop, k, milestone, sign * cutoff, rank, n,
            $"{verb} at rung {k} (step {milestone}): {Fmt(report.Value)} {Cmp(cmp, sign)} cutoff {Fmt(sign * cutoff)} " +
            $"(rank {rank} of {n}, keeps top {idx + 1})");
    }

    /// <summary>How many values of an ascending list are strictly greater than <paramref name="x"/>.</summary>
    private static int CountAbove(List<double> sorted, double x)
    {
        int lo = 0, hi = sorted.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (sorted[mid] > x)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return sorted.Count - lo;
    }

    private static string Cmp(string signedComparison, double sign) =>
        sign > 0 ? signedComparison : signedComparison switch { ">=" => "<=", "<" => ">", _ => signedComparison };

    private static string Fmt(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);

    private static SchedulerDecision Decision(TrialReport r, DecisionKind kind, int? rung, int? milestone, double? cutoff, int? rank, int n, string reason) =>
        new(r.Trial, r.Step, kind, r.Value, rung, milestone, cutoff, rank, n, reason);
}
