using System.Text;
using System.Text.Json;
using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Schedulers;

/// <summary>
/// JSON for <see cref="SchedulerState"/>: the scheduler's own state type named by <c>$kind</c>. A state stored before the
/// per-scheduler types (no <c>$kind</c>) reads as the old bag, which its scheduler adopts (<see cref="ITrialScheduler.Adopt"/>).
/// </summary>
public static class SchedulerStateJson
{
    public static string Serialize(SchedulerState state) => StateJson.Serialize(state);

    public static SchedulerState Deserialize(string json) => Deserialize(Encoding.UTF8.GetBytes(json));

    public static SchedulerState Deserialize(ReadOnlySpan<byte> utf8Json) => Kinded(utf8Json)
        ? StateJson.Deserialize<SchedulerState>(utf8Json)
        : StateJson.Deserialize<LegacySchedulerState>(utf8Json);

    /// <summary>Whether the object's first property is the <c>$kind</c> discriminator (what <see cref="Serialize"/> writes first).</summary>
    private static bool Kinded(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        return reader.Read() && reader.TokenType == JsonTokenType.StartObject && reader.Read() &&
               reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("$kind"u8);
    }
}
