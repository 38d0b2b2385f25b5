namespace AunceSearch.Search.Schedulers;

/// <summary>Multi-objective ASHA's state: the objective vector each trial recorded at each rung.</summary>
public sealed class MultiObjectiveSchedulerState : SchedulerState
{
    /// <summary>ObjectiveRungs[k][trial] = the objective vector recorded at rung k.</summary>
    public List<Dictionary<int, double[]>> ObjectiveRungs { get; set; } = [];
}
