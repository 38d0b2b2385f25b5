using System.Globalization;
using AunceSearch.Model;
using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Schedulers;

/// <summary>
/// ASHA as the paper defines it (Li et al., MLSys 2020, Algorithm 2): a configuration trains to rung k's resource,
/// pauses there, and whenever capacity frees up the best not-yet-promoted configuration among the top ⌊n_k/η⌋ of the
/// highest promotable rung is promoted and resumes from its checkpoint; otherwise a new configuration starts at rung 0.
/// No synchronisation barrier; nothing leaves rung k before η results are recorded there; promotion is monotone.
/// Rung resources are r·η^(s+k) below max_t, and the top rung is max_t itself.
/// <para>One departure from the paper, once the trial budget is spent (no new configuration may start): each rung
/// promotes its top max(1, ⌊n_k/η⌋) instead of ⌊n_k/η⌋, so free capacity carries the sweep's best paused configuration
/// up to max_t rather than idling while it waits at a rung with fewer than η results. The paper's ASHA and Ray Tune's
/// have no trial budget (they start new configurations until time runs out); Optuna's pruners never resume a trial.</para>
/// </summary>
public sealed class AshaPromotionScheduler : ITrialScheduler
{
    private readonly int[] _rungSteps;

    public AshaPromotionScheduler(AshaOptions options, int minEarlyStoppingRate = 0)
    {
        options.Validate();
        if (minEarlyStoppingRate < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(minEarlyStoppingRate), minEarlyStoppingRate, "min_early_stopping_rate must be >= 0");
        }

        Options = options;
        var steps = new List<int>();
        for (long m = options.GracePeriod * (long)Math.Pow(options.ReductionFactor, minEarlyStoppingRate); m < options.MaxT; m *= options.ReductionFactor)
        {
            steps.Add((int)m);
        }

        steps.Add(options.MaxT);
        _rungSteps = [.. steps];
    }

    public AshaOptions Options { get; }

    public string Name => "asha (promotion)";

    public int MaxSteps => Options.MaxT;

    /// <summary>The resource (steps) of each rung; the last is max_t.</summary>
    public IReadOnlyList<int> RungSteps => _rungSteps;

    public SchedulerState NewState()
    {
        var s = new AshaPromotionState();
        foreach (var _ in _rungSteps)
        {
            s.Rungs.Add([]);
            s.Promoted.Add([]);
        }

        return s;
    }

    public SchedulerDecision OnReport(SchedulerState schedulerState, TrialReport r)
    {
        var state = (AshaPromotionState)schedulerState;
        var history = state.Study.Trial(r.Trial);
        history.Values[r.Step] = r.Value;
        var k = Array.IndexOf(_rungSteps, r.Step);
        if (k < 0)
        {
            return new SchedulerDecision(r.Trial, r.Step, DecisionKind.Continue, r.Value, null, null, null, null, 0, "continues: not a rung");
        }

        var value = double.IsNaN(r.Value) ? (Options.Direction == Direction.Maximize ? double.NegativeInfinity : double.PositiveInfinity) : r.Value;
        state.Rungs[k][r.Trial] = value;
        var (rank, n) = Rank(state, k, r.Trial);
        if (k == _rungSteps.Length - 1)
        {
            history.Phase = TrialPhase.Complete;
            return new SchedulerDecision(r.Trial, r.Step, DecisionKind.Complete, r.Value, k, r.Step, null, rank, n,
                Fmt($"completed at the top rung {k} (step {r.Step}): {r.Value:0.0000}, rank {rank} of {n}"));
        }

        state.Paused[r.Trial] = k;
        var keep = n / Options.ReductionFactor;
        return new SchedulerDecision(r.Trial, r.Step, DecisionKind.Pause, r.Value, k, r.Step, null, rank, n,
            Fmt($"paused at rung {k} (step {r.Step}): {r.Value:0.0000}, rank {rank} of {n}; rung {k} promotes its top {keep} (⌊{n}/{Options.ReductionFactor}⌋)"));
    }

    public void OnTrialEnded(SchedulerState schedulerState, int trial, TrialPhase phase)
    {
        var state = (AshaPromotionState)schedulerState;
        state.Paused.Remove(trial);
        if (phase != TrialPhase.Complete)
        {
            state.Study.Trial(trial).Phase = TrialPhase.Pruned;
        }
    }

    public SchedulerPlan NextJob(SchedulerState state, bool mayStartNew, IReadOnlyCollection<int> running) => SchedulerPlan.Run(Next((AshaPromotionState)state, mayStartNew, running));

    private SchedulerJob? Next(AshaPromotionState state, bool mayStartNew, IReadOnlyCollection<int> running)
    {
        for (var k = _rungSteps.Length - 2; k >= 0; k--)
        {
            var rung = state.Rungs[k];
            var keep = Keep(rung.Count, mayStartNew);
            var top = Ordered(rung).Take(keep).ToList();
            var pick = top.Select((t, i) => (Trial: t, Rank: i + 1))
                .FirstOrDefault(x => !state.Promoted[k].Contains(x.Trial) && state.Paused.TryGetValue(x.Trial, out var pk) && pk == k && !running.Contains(x.Trial));
            if (pick.Rank > 0)
            {
                state.Promoted[k].Add(pick.Trial);
                state.Paused.Remove(pick.Trial);
                var v = rung[pick.Trial];
                var d = new SchedulerDecision(pick.Trial, _rungSteps[k], DecisionKind.Promote, v, k, _rungSteps[k + 1], top.Count > 0 ? rung[top[^1]] : null,
                    pick.Rank, rung.Count,
                    Fmt($"promoted from rung {k} (step {_rungSteps[k]}) to rung {k + 1} (step {_rungSteps[k + 1]}): {v:0.0000}, rank {pick.Rank} of {rung.Count}, within the top {top.Count} ({KeepRule(rung.Count, mayStartNew)})"));
                return new SchedulerJob(pick.Trial, false, _rungSteps[k + 1], d);
            }
        }

        if (!mayStartNew)
        {
            return null;
        }

        return new SchedulerJob(state.Started++, true, _rungSteps[0], null);
    }

    public IReadOnlyList<SchedulerDecision> Finish(SchedulerState schedulerState)
    {
        var state = (AshaPromotionState)schedulerState;
        var decisions = new List<SchedulerDecision>();
        foreach (var (trial, k) in state.Paused.ToList())
        {
            var (rank, n) = Rank(state, k, trial);
            var v = state.Rungs[k][trial];
            var keep = Keep(n, mayStartNew: false);
            var why = rank <= keep
                ? Fmt($"within the top {keep} ({KeepRule(n, false)}), but the sweep ended before capacity freed up")
                : Fmt($"not in the top {keep} ({KeepRule(n, false)})");
            decisions.Add(new SchedulerDecision(trial, _rungSteps[k], DecisionKind.Stop, v, k, _rungSteps[k], null, rank, n,
                Fmt($"stopped at rung {k} (step {_rungSteps[k]}): {v:0.0000}, rank {rank} of {n}, {why}")));
            state.Study.Trial(trial).Phase = TrialPhase.Pruned;
        }

        state.Paused.Clear();
        return decisions;
    }

    /// <summary>How many of a rung's <paramref name="n"/> results may be promoted: ⌊n/η⌋, and at least 1 once no new trial may start.</summary>
    private int Keep(int n, bool mayStartNew) => mayStartNew || n == 0 ? n / Options.ReductionFactor : Math.Max(1, n / Options.ReductionFactor);

    private string KeepRule(int n, bool mayStartNew) => mayStartNew || n / Options.ReductionFactor >= 1
        ? Fmt($"⌊{n}/{Options.ReductionFactor}⌋")
        : Fmt($"at least 1 once the trial budget is spent; ⌊{n}/{Options.ReductionFactor}⌋ = 0");

    private IEnumerable<int> Ordered(Dictionary<int, double> rung) => Options.Direction == Direction.Maximize
        ? rung.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => kv.Key)
        : rung.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => kv.Key);

    /// <summary>1 + the number of entries ordered before the trial (better value, or equal value and lower trial number); O(n).</summary>
    private (int Rank, int Count) Rank(AshaPromotionState state, int k, int trial)
    {
        var rung = state.Rungs[k];
        var v = rung[trial];
        var max = Options.Direction == Direction.Maximize;
        var before = 0;
        foreach (var (t, x) in rung)
        {
            if ((max ? x > v : x < v) || (x == v && t < trial))
            {
                before++;
            }
        }

        return (before + 1, rung.Count);
    }

    private static string Fmt(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
