using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Schedulers;

/// <summary>Base for schedulers that only continue or stop: a new trial trains towards max_t and is never paused.</summary>
public abstract class StoppingScheduler(int maxSteps) : ITrialScheduler
{
    public abstract string Name { get; }

    public int MaxSteps { get; } = maxSteps >= 1 ? maxSteps : throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, "max_t must be >= 1");

    public virtual SchedulerState NewState() => new StudySchedulerState();

    public SchedulerDecision OnReport(SchedulerState state, TrialReport report)
    {
        var d = Decide(state, report);
        if (d.Kind == DecisionKind.Stop)
        {
            state.Study.Trial(report.Trial).Phase = TrialPhase.Pruned;
            return d;
        }

        if (report.Step >= MaxSteps)
        {
            state.Study.Trial(report.Trial).Phase = TrialPhase.Complete;
            return d with { Kind = DecisionKind.Complete, Reason = $"completed at step {report.Step} (max_t {MaxSteps}); {d.Reason}" };
        }

        return d;
    }

    public void OnTrialEnded(SchedulerState state, int trial, TrialPhase phase) => state.Study.Trial(trial).Phase = phase;

    public SchedulerPlan NextJob(SchedulerState state, bool mayStartNew, IReadOnlyCollection<int> running) => SchedulerPlan.Run(Next(state, mayStartNew, running));

    private SchedulerJob? Next(SchedulerState state, bool mayStartNew, IReadOnlyCollection<int> running)
    {
        if (!mayStartNew)
        {
            return null;
        }

        return new SchedulerJob(state.Started++, true, MaxSteps, null);
    }

    public IReadOnlyList<SchedulerDecision> Finish(SchedulerState state) => [];

    /// <summary>Records the report and decides continue or stop.</summary>
    protected abstract SchedulerDecision Decide(SchedulerState state, TrialReport report);
}
