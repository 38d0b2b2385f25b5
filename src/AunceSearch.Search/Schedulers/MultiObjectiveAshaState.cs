namespace AunceSearch.Search.Schedulers;

/// <summary>Rung records of multi-objective ASHA: Rungs[k][trial] = the objective vector recorded at rung k.</summary>
public sealed class MultiObjectiveAshaState
{
    public List<Dictionary<int, double[]>> Rungs { get; set; } = [];
}
