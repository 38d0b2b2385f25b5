namespace AunceSearch.Search.Pruners;

/// <summary>JSON for scheduler and pruner state (named floating-point literals, so NaN values survive).</summary>
public static class StateJson
{
    private static readonly System.Text.Json.JsonSerializerOptions Options = new()
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize<T>(T state) => System.Text.Json.JsonSerializer.Serialize(state, Options);

    public static T Deserialize<T>(string json) =>
        System.Text.Json.JsonSerializer.Deserialize<T>(json, Options) ?? throw new FormatException($"empty {typeof(T).Name}");

    public static T Deserialize<T>(ReadOnlySpan<byte> utf8Json) =>
        System.Text.Json.JsonSerializer.Deserialize<T>(utf8Json, Options) ?? throw new FormatException($"empty {typeof(T).Name}");
}
