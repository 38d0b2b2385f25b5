namespace AunceSearch.Search.Schedulers;

/// <summary>Synchronous Hyperband's state: each trial's bracket, the bracket and rung being filled or cut, and who waits.</summary>
public sealed class SynchronousHyperbandState : SchedulerState
{
    /// <summary>Trial → bracket index.</summary>
    public SortedDictionary<int, int> Bracket { get; set; } = [];

    /// <summary>The bracket in progress.</summary>
    public int CurrentBracket { get; set; }

    /// <summary>The rung of the current bracket being filled or cut.</summary>
    public int CurrentRung { get; set; }

    /// <summary>Whether the current rung has been cut (losers stopped).</summary>
    public bool CurrentRungCut { get; set; }

    /// <summary>Trials waiting at a rung: trial → rung.</summary>
    public SortedDictionary<int, int> Paused { get; set; } = [];

    /// <summary>The rung each trial is training towards.</summary>
    public SortedDictionary<int, int> TargetRung { get; set; } = [];
}
