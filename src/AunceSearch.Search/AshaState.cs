namespace AunceSearch.Search;

/// <summary>Recorded values per rung; plain data so that it serialises (System.Text.Json) and restores exactly.</summary>
public sealed class AshaState
{
    /// <summary>Rungs[k][trial] = the value the trial had when it reached milestone k.</summary>
    public List<Dictionary<int, double>> Rungs { get; set; } = [];

    /// <summary>
    /// Derived, not serialised: per rung, the non-NaN values in the scheduler's sign, sorted ascending, and the rung size
    /// they were built from. Rebuilt from <see cref="Rungs"/> whenever they disagree (e.g. after a restore).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    internal List<(int Count, List<double> Sorted)?> Order { get; set; } = [];
}
