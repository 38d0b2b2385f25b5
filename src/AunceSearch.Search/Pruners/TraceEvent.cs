namespace AunceSearch.Search.Pruners;

/// <summary>One event of a pruner trace: a report (with the recorded decision, if any) or a completion.</summary>
public sealed record TraceEvent(int Trial, int? Step, double Value, bool Complete, string? Decision);
