namespace AunceSearch.Search;

/// <summary>Whether larger or smaller metric values are better.</summary>
public enum Direction
{
    Maximize,
    Minimize,
}

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

/// <summary>
/// A decision with its evidence: the rung and milestone it was taken at, the cutoff it was compared with,
/// the trial's rank among the competitors and how many there were, and a plain-language reason.
/// </summary>
public sealed record SchedulerDecision(
    int Trial,
    int Step,
    DecisionKind Kind,
    double Value,
    int? Rung,
    int? Milestone,
    double? Cutoff,
    int? Rank,
    int Competitors,
    string Reason);

/// <summary>One fold-averaged metric report of a trial at a step (an epoch); multi-objective schedulers read <paramref name="Objectives"/>.</summary>
public readonly record struct TrialReport(int Trial, int Step, double Value, double[]? Objectives = null);
