using AunceSearch.Model;
namespace AunceSearch.Search.Schedulers;

/// <summary>
/// A deterministic discrete-event simulation of a sweep: <c>workers</c> parallel workers, each training one trial one
/// step per time unit, reporting after every step; the scheduler decides on each report and chooses the next job when a
/// worker frees up. Used by the tests (scheduler properties, restartability) and by the search-quality benchmark.
/// </summary>
public static class SweepSimulator
{
    /// <param name="curve">The metric of trial t after step s (a learning curve).</param>
    /// <param name="maxTrials">How many new configurations may be started.</param>
    /// <param name="budgetSteps">Stop starting or resuming jobs once this many steps were consumed (null = no limit).</param>
    /// <param name="roundTrip">Applied to the state after every event (tests: serialise and restore).</param>
    public static SimulationResult Run(ITrialScheduler scheduler, Func<int, int, double> curve, int workers, int maxTrials,
        long? budgetSteps = null, Func<SchedulerState, SchedulerState>? roundTrip = null, Direction direction = Direction.Maximize) =>
        Run(scheduler, (t, _) => (new Dictionary<string, string>(), s => curve(t, s)), workers, maxTrials, budgetSteps, roundTrip, direction);

    /// <param name="newTrial">Called when a new trial starts, with the history so far: its configuration and learning curve
    /// (a sampler chooses the configuration; the curve maps a step to the metric).</param>
    public static SimulationResult Run(ITrialScheduler scheduler,
        Func<int, IReadOnlyList<Observation>, (IReadOnlyDictionary<string, string> Config, Func<int, double> Curve)> newTrial,
        int workers, int maxTrials, long? budgetSteps = null, Func<SchedulerState, SchedulerState>? roundTrip = null,
        Direction direction = Direction.Maximize)
    {
        var curves = new Dictionary<int, Func<int, double>>();
        var configs = new Dictionary<int, IReadOnlyDictionary<string, string>>();
        var phase = new Dictionary<int, ObservationState>();
        double curve(int t, int step) => curves[t](step);
        var state = scheduler.NewState();
        var decisions = new List<SchedulerDecision>();
        var finals = new Dictionary<int, (int, double)>();
        var incumbent = new List<(long, double)>();
        var stepOf = new Dictionary<int, int>();
        var busy = new (int Trial, int Target, long FreeAt)?[workers];
        long time = 0, steps = 0;
        double? best = null;

        bool MayStart() => state.Started < maxTrials && (budgetSteps is null || steps < budgetSteps);
        void Fill()
        {
            for (var w = 0; w < workers; w++)
            {
                if (busy[w] is not null || (budgetSteps is not null && steps >= budgetSteps))
                {
                    continue;
                }

                var running = busy.Where(b => b is not null).Select(b => b!.Value.Trial).ToList();
                var (job, others) = scheduler.NextJob(state, MayStart(), running);
                foreach (var stop in others)
                {
                    decisions.Add(stop);
                    if (stop.Kind == DecisionKind.Stop)
                    {
                        phase[stop.Trial] = ObservationState.Pruned;
                    }
                }

                if (job is null)
                {
                    return;
                }

                if (job.Decision is not null)
                {
                    decisions.Add(job.Decision);
                }

                if (!job.IsNew)
                {
                    phase[job.Trial] = ObservationState.Running;
                }

                if (job.IsNew)
                {
                    var history = configs.Keys.Order().Select(t => new Observation(t, configs[t], phase[t],
                        finals.TryGetValue(t, out var f) ? f.Item2 : null, finals.TryGetValue(t, out var g) ? g.Item1 : 0)).ToList();
                    var (config, c) = newTrial(job.Trial, history);
                    configs[job.Trial] = config;
                    curves[job.Trial] = c;
                    phase[job.Trial] = ObservationState.Running;
                }

                var from = stepOf.GetValueOrDefault(job.Trial);
                busy[w] = (job.Trial, job.TargetStep, time + 1);
                stepOf[job.Trial] = from;
                if (roundTrip is not null)
                {
                    state = roundTrip(state);
                }
            }
        }

        Fill();
        while (busy.Any(b => b is not null))
        {
            // Advance to the next report: the worker that frees first (ties: lowest index).
            var w = Enumerable.Range(0, workers).Where(i => busy[i] is not null).OrderBy(i => busy[i]!.Value.FreeAt).ThenBy(i => i).First();
            var (trial, target, at) = busy[w]!.Value;
            time = at;
            var step = stepOf[trial] + 1;
            stepOf[trial] = step;
            steps++;
            var value = curve(trial, step);
            var d = scheduler.OnReport(state, new TrialReport(trial, step, value));
            decisions.Add(d);
            finals[trial] = (step, value);
            if (d.Kind is DecisionKind.Stop or DecisionKind.Pause)
            {
                phase[trial] = ObservationState.Pruned;   // a paused trial is an observation at its rung, like a pruned one
            }
            else if (d.Kind == DecisionKind.Complete || step >= scheduler.MaxSteps)
            {
                phase[trial] = ObservationState.Complete;
            }
            if (roundTrip is not null)
            {
                state = roundTrip(state);
            }

            var ends = d.Kind is DecisionKind.Stop or DecisionKind.Complete or DecisionKind.Pause || step >= target || step >= scheduler.MaxSteps;
            busy[w] = ends ? null : (trial, target, time + 1);
            if (d.Kind == DecisionKind.Complete || (step >= scheduler.MaxSteps && d.Kind != DecisionKind.Stop))
            {
                if (best is null || (direction == Direction.Maximize ? value > best : value < best))
                {
                    best = value;
                }

                incumbent.Add((steps, best.Value));
            }

            if (ends)
            {
                Fill();
            }
        }

        decisions.AddRange(scheduler.Finish(state));
        return new SimulationResult(decisions, steps, finals, incumbent, time);
    }
}
