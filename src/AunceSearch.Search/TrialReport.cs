namespace AunceSearch.Search;

/// <summary>One fold-averaged metric report of a trial at a step (an epoch); multi-objective schedulers read <paramref name="Objectives"/>.</summary>
public readonly record struct TrialReport(int Trial, int Step, double Value, double[]? Objectives = null);
