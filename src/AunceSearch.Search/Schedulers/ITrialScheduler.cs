using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Schedulers;

/// <summary>
/// A trial scheduler as a pure function of (state, event): no clock, no randomness it does not own, no side effects
/// beyond the state passed in — a state of its own type (<see cref="NewState"/>), which it updates in place (a copy per
/// report would cost O(trials) at 100,000 trials). Every decision an event implies, about any trial, comes back from the
/// call (<see cref="SchedulerPlan"/>); there is no side channel to drain.
/// </summary>
public interface ITrialScheduler
{
    /// <summary>Name for logs and explanations.</summary>
    string Name { get; }

    /// <summary>The maximum resource (epochs) a trial may train.</summary>
    int MaxSteps { get; }

    /// <summary>A fresh state of this scheduler's own type.</summary>
    SchedulerState NewState();

    /// <summary>
    /// A restored state made this scheduler's: its own type as it is; a state stored before the per-scheduler types (the old
    /// bag) moved into a new state of its type. Another scheduler's state is an <see cref="InvalidDataException"/>.
    /// </summary>
    SchedulerState Adopt(SchedulerState restored)
    {
        var fresh = NewState();
        return restored switch
        {
            LegacySchedulerState legacy => legacy.Into(fresh),
            _ when restored.GetType() == fresh.GetType() => restored,
            _ => throw new InvalidDataException($"scheduler {Name}: a stored state of type {restored.GetType().Name} is not its own ({fresh.GetType().Name})"),
        };
    }

    /// <summary>A trial started (or changed) with <paramref name="config"/>; schedulers that copy configurations (PBT) keep it.</summary>
    void OnTrialConfig(SchedulerState state, int trial, IReadOnlyDictionary<string, string> config)
    {
    }

    /// <summary>A trial's fold-averaged value at a step: continue, stop, pause at a rung, or complete.</summary>
    SchedulerDecision OnReport(SchedulerState state, TrialReport report);

    /// <summary>A trial ended outside the scheduler's decisions (failed or cancelled), or completed.</summary>
    void OnTrialEnded(SchedulerState state, int trial, TrialPhase phase);

    /// <summary>
    /// Called when capacity frees up: a paused trial to promote, a new trial (if <paramref name="mayStartNew"/>), or no job
    /// (nothing to do until a running trial reports), with every decision taken on the way about any trial (e.g. the trials
    /// a synchronous rung stopped). <paramref name="running"/> are the trials training now.
    /// </summary>
    SchedulerPlan NextJob(SchedulerState state, bool mayStartNew, IReadOnlyCollection<int> running);

    /// <summary>Called when the sweep can start nothing more: decisions for trials left paused (they stop).</summary>
    IReadOnlyList<SchedulerDecision> Finish(SchedulerState state);
}
