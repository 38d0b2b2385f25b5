using System.Globalization;
using AunceSearch.Model;
using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Schedulers;

/// <summary>
/// Synchronous Hyperband (Li et al., JMLR 2018): brackets s = s_max … 0, bracket s starts n_s = ⌈(s_max+1)·η^s/(s+1)⌉
/// configurations at resource R·η^(−s) and runs successive halving with a barrier per rung: when every survivor has
/// reached rung i, the top ⌊n_i/η⌋ resume to rung i+1 and the rest stop. Resources are in steps (epochs) with
/// R = max_t / min_resource units of min_resource.
/// </summary>
public sealed class SynchronousHyperbandScheduler : ITrialScheduler
{
    private readonly int _sMax;
    private readonly int[] _bracketSize;

    public SynchronousHyperbandScheduler(int maxSteps, int reductionFactor, int minResource = 1, Direction direction = Direction.Maximize)
    {
        if (reductionFactor < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(reductionFactor), reductionFactor, "reduction_factor must be >= 2");
        }

        if (minResource < 1 || maxSteps < minResource)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, $"max_t must be >= min_resource ({minResource}) >= 1");
        }

        MaxSteps = maxSteps;
        ReductionFactor = reductionFactor;
        MinResource = minResource;
        Direction = direction;
        var units = (double)maxSteps / minResource;
        _sMax = (int)Math.Floor((Math.Log(units) / Math.Log(reductionFactor)) + 1e-9);
        _bracketSize = new int[_sMax + 1];
        for (var b = 0; b <= _sMax; b++)
        {
            var s = _sMax - b;
            _bracketSize[b] = (int)Math.Ceiling((_sMax + 1) * Math.Pow(reductionFactor, s) / (s + 1));
        }
    }

    public string Name => "hyperband (synchronous)";

    public int MaxSteps { get; }

    public int ReductionFactor { get; }

    public int MinResource { get; }

    public Direction Direction { get; }

    /// <summary>Configurations per bracket, in the order brackets run (most aggressive first).</summary>
    public IReadOnlyList<int> BracketSizes => _bracketSize;

    /// <summary>Total configurations over all brackets.</summary>
    public int TotalTrials => _bracketSize.Sum();

    /// <summary>The step (epoch) of rung i in bracket b.</summary>
    public int RungStep(int bracket, int rung)
    {
        var s = _sMax - bracket;
        var units = (double)MaxSteps / MinResource * Math.Pow(ReductionFactor, rung - s);
        return Math.Clamp((int)Math.Round(units * MinResource), 1, MaxSteps);
    }

    private int LastRung(int bracket) => _sMax - bracket;

    public SchedulerState NewState() => new SynchronousHyperbandState();

    public SchedulerDecision OnReport(SchedulerState schedulerState, TrialReport r)
    {
        var state = (SynchronousHyperbandState)schedulerState;
        var history = state.Study.Trial(r.Trial);
        history.Values[r.Step] = r.Value;
        var b = state.Bracket[r.Trial];
        var rung = state.TargetRung.GetValueOrDefault(r.Trial);
        var step = RungStep(b, rung);
        if (r.Step < step)
        {
            return new SchedulerDecision(r.Trial, r.Step, DecisionKind.Continue, r.Value, rung, step, null, null, 0, $"continues towards rung {rung} (step {step}) of bracket {b}");
        }

        if (rung == LastRung(b) || r.Step >= MaxSteps)
        {
            history.Phase = TrialPhase.Complete;
            return new SchedulerDecision(r.Trial, r.Step, DecisionKind.Complete, r.Value, rung, step, null, null, 0, $"completed bracket {b} at its last rung {rung} (step {r.Step})");
        }

        state.Paused[r.Trial] = rung;
        return new SchedulerDecision(r.Trial, r.Step, DecisionKind.Pause, r.Value, rung, step, null, null, 0,
            $"paused at rung {rung} (step {step}) of bracket {b}: waits until every trial of the bracket reaches it");
    }

    public void OnTrialEnded(SchedulerState schedulerState, int trial, TrialPhase phase)
    {
        var state = (SynchronousHyperbandState)schedulerState;
        state.Paused.Remove(trial);
        state.Study.Trial(trial).Phase = phase;
    }

    public SchedulerPlan NextJob(SchedulerState state, bool mayStartNew, IReadOnlyCollection<int> running)
    {
        var stops = new List<SchedulerDecision>();   // the trials a rung's cut stops, on the way to the job
        var job = Next((SynchronousHyperbandState)state, mayStartNew, running, stops);
        return stops.Count == 0 ? SchedulerPlan.Run(job) : new SchedulerPlan(job, stops);
    }

    private SchedulerJob? Next(SynchronousHyperbandState state, bool mayStartNew, IReadOnlyCollection<int> running, List<SchedulerDecision> stops)
    {
        while (state.CurrentBracket <= _sMax)
        {
            var b = state.CurrentBracket;
            var members = state.Bracket.Where(kv => kv.Value == b).Select(kv => kv.Key).ToList();
            if (state.CurrentRung == 0 && members.Count < _bracketSize[b])
            {
                if (mayStartNew)
                {
                    var trial = state.Started++;   // the coordinator numbers new trials 0, 1, 2, … in start order
                    state.Bracket[trial] = b;
                    state.TargetRung[trial] = 0;
                    return new SchedulerJob(trial, true, RungStep(b, 0), null);
                }

                if (members.Count == 0)
                {
                    return null;
                }

                // The trial budget is spent with this bracket part-filled: it goes on with the members it has.
            }

            var step = RungStep(b, state.CurrentRung);
            var sign = Direction == Direction.Maximize ? -1.0 : 1.0;
            var waiting = members.Where(t => state.Paused.TryGetValue(t, out var r) && r == state.CurrentRung)
                .OrderBy(t => sign * Value(state, t, step)).ThenBy(t => t).ToList();
            if (!state.CurrentRungCut)
            {
                if (members.Any(t => running.Contains(t) && state.TargetRung.GetValueOrDefault(t) == state.CurrentRung))
                {
                    return null;   // barrier: the rung is not complete yet
                }

                // Once no new trial may start, a rung keeps at least its best, so the sweep's best configuration
                // reaches the top rung instead of being stopped by a cut of fewer than η results.
                var keep = mayStartNew ? waiting.Count / ReductionFactor : Math.Max(Math.Min(1, waiting.Count), waiting.Count / ReductionFactor);
                var rule = mayStartNew || waiting.Count / ReductionFactor >= 1
                    ? $"⌊{waiting.Count}/{ReductionFactor}⌋"
                    : $"at least 1 once the trial budget is spent; ⌊{waiting.Count}/{ReductionFactor}⌋ = 0";
                foreach (var (t, i) in waiting.Select((t, i) => (t, i)).Skip(keep))
                {
                    state.Paused.Remove(t);
                    state.Study.Trial(t).Phase = TrialPhase.Pruned;
                    stops.Add(new SchedulerDecision(t, step, DecisionKind.Stop, Value(state, t, step), state.CurrentRung, step,
                        keep > 0 ? Value(state, waiting[keep - 1], step) : null, i + 1, waiting.Count, string.Create(CultureInfo.InvariantCulture,
                            $"stopped at rung {state.CurrentRung} (step {step}) of bracket {b}: {Value(state, t, step):0.0000}, rank {i + 1} of {waiting.Count}; keeps the top {keep} ({rule})")));
                }

                waiting = [.. waiting.Take(keep)];
                state.CurrentRungCut = true;
            }

            if (waiting.Count == 0)
            {
                // Every keeper of this rung has been resumed (or nobody was kept): move on.
                var advanced = members.Any(t => state.TargetRung.GetValueOrDefault(t) > state.CurrentRung);
                state.CurrentRungCut = false;
                if (advanced)
                {
                    state.CurrentRung++;
                }
                else
                {
                    state.CurrentBracket++;
                    state.CurrentRung = 0;
                }

                if (advanced && members.Any(running.Contains))
                {
                    return null;
                }

                continue;
            }

            var pick = waiting[0];
            var next = state.CurrentRung + 1;
            var nextStep = RungStep(b, next);
            state.Paused.Remove(pick);
            state.TargetRung[pick] = next;
            var d = new SchedulerDecision(pick, step, DecisionKind.Promote, Value(state, pick, step), state.CurrentRung, nextStep, null, null, 0,
                string.Create(CultureInfo.InvariantCulture, $"promoted from rung {state.CurrentRung} to rung {next} (step {nextStep}) of bracket {b}: {Value(state, pick, step):0.0000} is among the kept"));
            return new SchedulerJob(pick, false, nextStep, d);
        }

        return null;
    }

    public IReadOnlyList<SchedulerDecision> Finish(SchedulerState schedulerState)
    {
        var state = (SynchronousHyperbandState)schedulerState;
        var stops = state.Paused.Select(kv => new SchedulerDecision(kv.Key, 0, DecisionKind.Stop, double.NaN, kv.Value, null, null, null, 0, "stopped: the sweep ended before its bracket finished")).ToList();
        foreach (var d in stops)
        {
            state.Study.Trial(d.Trial).Phase = TrialPhase.Pruned;
        }

        state.Paused.Clear();
        return stops;
    }

    private static double Value(SchedulerState s, int trial, int step)
    {
        var values = s.Study.Trial(trial).Values;
        return values.Where(kv => kv.Key <= step).OrderBy(kv => kv.Key).Select(kv => kv.Value).LastOrDefault(double.NaN);
    }
}
