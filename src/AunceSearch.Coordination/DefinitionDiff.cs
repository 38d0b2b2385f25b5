using System.Text.Json;
using System.Text.Json.Nodes;
using AunceSearch.Contracts;

namespace AunceSearch.Coordination;

/// <summary>Names the first difference between two sweep definitions (records with arrays do not compare by value).</summary>
public static class DefinitionDiff
{
    /// <summary>Null when equal; else the path of the first field that differs with both values, e.g. <c>Search.Trials: 6 → 8</c>.</summary>
    public static string? First(SweepDefinition before, SweepDefinition after) =>
        First(JsonSerializer.SerializeToNode(before, SweepJournalCodec.Options), JsonSerializer.SerializeToNode(after, SweepJournalCodec.Options), "");

    private static string? First(JsonNode? a, JsonNode? b, string path)
    {
        switch (a, b)
        {
            case (JsonObject x, JsonObject y):
                foreach (var key in x.Select(kv => kv.Key).Union(y.Select(kv => kv.Key), StringComparer.Ordinal))
                {
                    if (First(x[key], y[key], path.Length == 0 ? key : $"{path}.{key}") is { } d)
                    {
                        return d;
                    }
                }

                return null;
            case (JsonArray x, JsonArray y) when x.Count == y.Count:
                for (var i = 0; i < x.Count; i++)
                {
                    if (First(x[i], y[i], $"{path}[{i}]") is { } d)
                    {
                        return d;
                    }
                }

                return null;
            default:
                return JsonNode.DeepEquals(a, b) ? null : $"{(path.Length == 0 ? "(the definition)" : path)}: {Show(a)} → {Show(b)}";
        }
    }

    private static string Show(JsonNode? n)
    {
        var text = n?.ToJsonString() ?? "(none)";
        return text.Length <= 80 ? text : text[..77] + "...";
    }
}
