using System.Globalization;

namespace AunceSearch.Search;

/// <summary>How ASHA's stopping variant treats a rung with fewer than η entries (the tools disagree there).</summary>
public enum SmallRungPolicy
{
    /// <summary>Ray Tune: an empty rung continues; otherwise compare with the (1−1/η) percentile of the earlier entries.</summary>
    Ray,

    /// <summary>Optuna/Determined: the competitors include the trial itself and it must rank in the top ⌊n/η⌋ (at least the best).</summary>
    Optuna,
}

/// <summary>Options of asynchronous successive halving (stopping variant).</summary>
public sealed record AshaOptions
{
    public const int DefaultGracePeriod = 1;
    public const int DefaultReductionFactor = 4;

    /// <summary>The first milestone (minimum resource r), in steps (epochs).</summary>
    public int GracePeriod { get; init; } = DefaultGracePeriod;

    /// <summary>η: keep the top 1/η at each rung.</summary>
    public int ReductionFactor { get; init; } = DefaultReductionFactor;

    /// <summary>The maximum resource R; a trial reporting this step completes.</summary>
    public int MaxT { get; init; } = 100;

    public Direction Direction { get; init; } = Direction.Maximize;

    public SmallRungPolicy SmallRungPolicy { get; init; } = SmallRungPolicy.Ray;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        if (GracePeriod < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(GracePeriod), GracePeriod, "grace_period must be >= 1");
        }

        if (ReductionFactor < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(ReductionFactor), ReductionFactor, "reduction_factor must be >= 2");
        }

        if (MaxT < GracePeriod)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxT), MaxT, $"max_t must be >= grace_period ({GracePeriod})");
        }
    }

    /// <summary>The rung milestones r·η^k that are below <see cref="MaxT"/>, ascending.</summary>
    public IReadOnlyList<int> Milestones()
    {
        var list = new List<int>();
        for (long m = GracePeriod; m < MaxT; m *= ReductionFactor)
        {
            list.Add((int)m);
        }

        return list;
    }
}

/// <summary>Recorded values per rung; plain data so that it serialises (System.Text.Json) and restores exactly.</summary>
public sealed class AshaState
{
    /// <summary>Rungs[k][trial] = the value the trial had when it reached milestone k.</summary>
    public List<Dictionary<int, double>> Rungs { get; set; } = [];

    /// <summary>
    /// Derived, not serialised: per rung, the non-NaN values in the scheduler's sign, sorted ascending, and the rung size
    /// they were built from. Rebuilt from <see cref="Rungs"/> whenever they disagree (e.g. after a restore).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    internal List<(int Count, List<double> Sorted)?> Order { get; set; } = [];
}

/// <summary>
/// Asynchronous successive halving, stopping variant (Li et al. 2020; Ray's ASHAScheduler): a trial that reaches
/// a rung's milestone continues only if it is in the top 1/η of the values recorded at that rung. A pure function
/// of (state, report): no clock, no randomness, no side effects beyond the state passed in.
/// </summary>
public sealed class AshaScheduler
{
    private const string NotAMilestone = "continues: not a new milestone";
    private readonly IReadOnlyList<int> _milestones;

    public AshaScheduler(AshaOptions options)
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

/// <summary>Percentiles as NumPy computes them.</summary>
public static class Percentile
{
    /// <summary>NumPy's default ("linear") percentile of <paramref name="values"/> at <paramref name="q"/> ∈ [0, 100].</summary>
    public static double Linear(IReadOnlyCollection<double> values, double q) =>
        values.Count == 0 ? double.NaN : LinearSorted([.. values.OrderBy(v => v)], q);

    /// <summary>The same on values already sorted ascending (O(1)).</summary>
    public static double LinearSorted(IReadOnlyList<double> x, double q)
    {
        if (x.Count == 0)
        {
            return double.NaN;
        }

        var h = (x.Count - 1) * (q / 100.0);
        if (h >= x.Count - 1)
        {
            return x[^1];
        }

        var i = (int)Math.Floor(h);
        var t = h - i;
        var a = x[i];
        var b = x[i + 1];
        var d = b - a;
        return t < 0.5 ? a + (d * t) : b - (d * (1 - t));
    }
}
