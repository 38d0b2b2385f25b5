namespace AunceSearch.Search;

/// <summary>What a scheduler decided about a trial after a report.</summary>
public enum DecisionKind
{
    /// <summary>Keep training.</summary>
    Continue,

    /// <summary>Stop early (pruned).</summary>
    Stop,

    /// <summary>The trial reached the maximum resource and is done.</summary>
    Complete,

    /// <summary>The trial reached a rung and waits there until it is promoted (or the sweep ends).</summary>
    Pause,

    /// <summary>A paused trial is promoted to the next rung and resumes from its checkpoint.</summary>
    Promote,

    /// <summary>PBT: the trial copies a better trial's checkpoint and (perturbed) configuration.</summary>
    Exploit,
}
