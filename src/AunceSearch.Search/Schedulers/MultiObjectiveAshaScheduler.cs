namespace AunceSearch.Search.Schedulers;

/// <summary>
/// Multi-objective ASHA as a trial scheduler (stopping variant): every trial trains towards max_t; at each rung its
/// objective vector is ranked by Pareto front and crowding distance among the vectors recorded there, and it stops
/// unless it is within the top max(1, ⌊n/η⌋).
/// </summary>
public sealed class MultiObjectiveAshaScheduler(MultiObjectiveAshaRule asha) : StoppingScheduler(asha.Options.MaxT)
{
    public override string Name => $"multi-objective asha ({asha.Directions.Length} objectives)";

    public MultiObjectiveAshaRule Asha => asha;

    public override SchedulerState NewState()
    {
        var s = new MultiObjectiveSchedulerState();
        s.ObjectiveRungs.AddRange(asha.NewState().Rungs);
        return s;
    }

    protected override SchedulerDecision Decide(SchedulerState schedulerState, TrialReport r)
    {
        var state = (MultiObjectiveSchedulerState)schedulerState;
        var values = r.Objectives ?? throw new ArgumentException($"trial {r.Trial} step {r.Step}: multi-objective ASHA needs an objective vector");
        state.Study.Trial(r.Trial).Values[r.Step] = r.Value;
        return asha.OnReport(new MultiObjectiveAshaState { Rungs = state.ObjectiveRungs }, r.Trial, r.Step, values) with { Value = r.Value };
    }
}
