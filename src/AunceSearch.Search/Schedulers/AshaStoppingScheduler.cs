namespace AunceSearch.Search.Schedulers;

/// <summary>ASHA's stopping variant (Ray's ASHAScheduler) as a trial scheduler.</summary>
public sealed class AshaStoppingScheduler(AshaOptions options) : StoppingScheduler(options.MaxT)
{
    private readonly AshaStoppingRule _asha = new(options);

    public override string Name => "asha (stopping)";

    public override SchedulerState NewState()
    {
        var s = new AshaStoppingState();
        foreach (var _ in _asha.Milestones)
        {
            s.Rungs.Add([]);
        }

        return s;
    }

    protected override SchedulerDecision Decide(SchedulerState schedulerState, TrialReport r)
    {
        var state = (AshaStoppingState)schedulerState;
        state.Study.Trial(r.Trial).Values[r.Step] = r.Value;
        if (state.AshaView is null || !ReferenceEquals(state.AshaView.Rungs, state.Rungs))
        {
            state.AshaView = new AshaState { Rungs = state.Rungs };
        }

        var asha = state.AshaView;
        var d = _asha.OnReport(asha, r);
        return d.Kind == DecisionKind.Complete ? d with { Kind = DecisionKind.Continue } : d;   // the base class completes at max_t
    }
}
