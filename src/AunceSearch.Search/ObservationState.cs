namespace AunceSearch.Search;

/// <summary>The state of an observed trial, for samplers that learn from history.</summary>
public enum ObservationState
{
    Running,
    Complete,
    Pruned,
}
