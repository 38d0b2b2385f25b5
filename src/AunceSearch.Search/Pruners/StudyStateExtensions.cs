namespace AunceSearch.Search.Pruners;

/// <summary>Bookkeeping shared by every pruner.</summary>
public static class StudyStateExtensions
{
    /// <summary>Marks a trial complete (its final value is not used by the pruners).</summary>
    public static void Complete(this StudyState state, int trial) => state.Trial(trial).Phase = TrialPhase.Complete;

    /// <summary>Records a report and applies a pruner's decision to the trial's phase.</summary>
    public static SchedulerDecision ReportAndApply(this IPruner pruner, StudyState state, int trial, int step, double value)
    {
        var decision = pruner.Report(state, trial, step, value);
        if (decision.Kind == DecisionKind.Stop)
        {
            state.Trial(trial).Phase = TrialPhase.Pruned;
        }

        return decision;
    }
}
