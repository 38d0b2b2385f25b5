using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Schedulers;

/// <summary>
/// Everything any scheduler keeps, as plain data: it serialises with <see cref="SchedulerStateJson"/> and a restored
/// state makes the same decisions. Each scheduler uses the parts it needs.
/// </summary>
public sealed class SchedulerState
{
    /// <summary>Per-trial history (values by step, phase, successive-halving records).</summary>
    public StudyState Study { get; set; } = new();

    /// <summary>ASHA rungs: Rungs[k][trial] = value recorded at rung k.</summary>
    public List<Dictionary<int, double>> Rungs { get; set; } = [];

    /// <summary>Promotion ASHA: Promoted[k] = trials promoted out of rung k.</summary>
    public List<List<int>> Promoted { get; set; } = [];

    /// <summary>Trials waiting at a rung: trial → rung.</summary>
    public SortedDictionary<int, int> Paused { get; set; } = [];

    /// <summary>How many new trials the scheduler has started.</summary>
    public int Started { get; set; }

    /// <summary>Synchronous Hyperband: trial → bracket index, and the bracket in progress.</summary>
    public SortedDictionary<int, int> Bracket { get; set; } = [];

    public int CurrentBracket { get; set; }

    /// <summary>Synchronous Hyperband: the rung of the current bracket being filled or cut.</summary>
    public int CurrentRung { get; set; }

    /// <summary>Synchronous Hyperband: whether the current rung has been cut (losers stopped).</summary>
    public bool CurrentRungCut { get; set; }

    /// <summary>Multi-objective ASHA: ObjectiveRungs[k][trial] = the objective vector recorded at rung k.</summary>
    public List<Dictionary<int, double[]>> ObjectiveRungs { get; set; } = [];

    /// <summary>PBT: scores, live trials and last perturbation steps.</summary>
    public PbtState? Pbt { get; set; }

    /// <summary>PBT: each trial's configuration (what an exploiting trial copies).</summary>
    public SortedDictionary<int, SortedDictionary<string, string>> Configs { get; set; } = [];

    /// <summary>PBT: the next leg decided for each trial waiting at a perturbation point.</summary>
    public SortedDictionary<int, PbtLeg> Legs { get; set; } = [];

    /// <summary>The rung each trial is training towards.</summary>
    public SortedDictionary<int, int> TargetRung { get; set; } = [];

    /// <summary>Stopping ASHA's view of <see cref="Rungs"/> with its sorted-rung cache (derived; not serialised).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    internal AshaState? AshaView { get; set; }
}
