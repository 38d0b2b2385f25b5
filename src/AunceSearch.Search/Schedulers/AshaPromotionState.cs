namespace AunceSearch.Search.Schedulers;

/// <summary>Promotion ASHA's state: the values recorded at each rung, who was promoted out of it, and who waits at one.</summary>
public sealed class AshaPromotionState : SchedulerState
{
    /// <summary>Rungs[k][trial] = the value recorded at rung k.</summary>
    public List<Dictionary<int, double>> Rungs { get; set; } = [];

    /// <summary>Promoted[k] = the trials promoted out of rung k.</summary>
    public List<List<int>> Promoted { get; set; } = [];

    /// <summary>Trials waiting at a rung: trial → rung.</summary>
    public SortedDictionary<int, int> Paused { get; set; } = [];
}
