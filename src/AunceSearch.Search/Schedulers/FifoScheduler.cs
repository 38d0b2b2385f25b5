namespace AunceSearch.Search.Schedulers;

/// <summary>No early stopping (FIFO): every trial trains to max_t.</summary>
public sealed class FifoScheduler(int maxSteps) : StoppingScheduler(maxSteps)
{
    public override string Name => "none";

    protected override SchedulerDecision Decide(SchedulerState state, TrialReport r)
    {
        state.Study.Trial(r.Trial).Values[r.Step] = r.Value;
        return new SchedulerDecision(r.Trial, r.Step, DecisionKind.Continue, r.Value, null, null, null, null, 0, "continues: no early stopping");
    }
}
