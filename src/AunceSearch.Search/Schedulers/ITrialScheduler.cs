using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Schedulers;

/// <summary>
/// A trial scheduler as a pure function of (state, event): no clock, no randomness it does not own, no side effects
/// beyond the state passed in. Decisions may concern other trials (promotions); the coordinator applies them.
/// </summary>
public interface ITrialScheduler
{
    /// <summary>Name for logs and explanations.</summary>
    string Name { get; }

    /// <summary>The maximum resource (epochs) a trial may train.</summary>
    int MaxSteps { get; }

    SchedulerState NewState();

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
