using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Schedulers;

/// <summary>JSON for <see cref="SchedulerState"/>.</summary>
public static class SchedulerStateJson
{
    public static string Serialize(SchedulerState state) => StateJson.Serialize(state);

    public static SchedulerState Deserialize(string json) => StateJson.Deserialize<SchedulerState>(json);

    public static SchedulerState Deserialize(ReadOnlySpan<byte> utf8Json) => StateJson.Deserialize<SchedulerState>(utf8Json);
}
