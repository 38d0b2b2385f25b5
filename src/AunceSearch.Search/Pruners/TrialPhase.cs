namespace AunceSearch.Search.Pruners;

/// <summary>Where a trial is in its life.</summary>
public enum TrialPhase
{
    Running,
    Pruned,
    Complete,
}
