namespace AunceSearch.Search.Schedulers;

/// <summary>PBT state: each live trial's latest score and its last perturbation step (plain data; JSON round-trips).</summary>
public sealed class PbtState
{
    public SortedDictionary<int, double> Scores { get; set; } = [];

    public SortedDictionary<int, int> LastPerturbation { get; set; } = [];

    public SortedSet<int> Live { get; set; } = [];
}
