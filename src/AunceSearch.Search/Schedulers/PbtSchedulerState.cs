namespace AunceSearch.Search.Schedulers;

/// <summary>Population-based training's state: scores and live trials, each trial's configuration, and the legs decided at perturbation points.</summary>
public sealed class PbtSchedulerState : SchedulerState
{
    /// <summary>Scores, live trials and last perturbation steps.</summary>
    public PbtState Pbt { get; set; } = new();

    /// <summary>Each trial's configuration (what an exploiting trial copies).</summary>
    public SortedDictionary<int, SortedDictionary<string, string>> Configs { get; set; } = [];

    /// <summary>The next leg decided for each trial waiting at a perturbation point.</summary>
    public SortedDictionary<int, PbtLeg> Legs { get; set; } = [];
}
