using System.Text.Json.Serialization;

namespace AunceSearch.Search.Schedulers;

/// <summary>Stopping ASHA's state: the values recorded at each rung.</summary>
public sealed class AshaStoppingState : SchedulerState
{
    /// <summary>Rungs[k][trial] = the value recorded at rung k.</summary>
    public List<Dictionary<int, double>> Rungs { get; set; } = [];

    /// <summary>The stopping rule's view of <see cref="Rungs"/> with its sorted-rung cache (derived; not serialised).</summary>
    [JsonIgnore]
    internal AshaState? AshaView { get; set; }
}
