namespace AunceSearch.Search;

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
