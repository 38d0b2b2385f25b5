using System.Text.Json;
using System.Text.Json.Nodes;
using AunceSearch.Contracts;
using AunceSearch.Model;

namespace AunceSearch.Coordination;

/// <summary>Names the first difference between two sweep definitions (records with arrays do not compare by value).</summary>
public static class DefinitionDiff
{
    /// <summary>
    /// Null when equal; else the path of the first field that differs with both values, e.g. <c>Search.Trials: 6 → 8</c>.
    /// A hyperparameter one side leaves out reads as its vocabulary default (what the trainer uses), so a sweep stored before
    /// a hyperparameter existed still equals its spec resolved today.
    /// </summary>
    public static string? First(SweepDefinition before, SweepDefinition after) =>
        First(JsonSerializer.SerializeToNode(WithDefaults(before), SweepJournalCodec.Options), JsonSerializer.SerializeToNode(WithDefaults(after), SweepJournalCodec.Options), "");

    private static SweepDefinition WithDefaults(SweepDefinition d)
    {
        if (d.Training?.Hyperparameters is not { } hp || TrainingVocabulary.Hyperparameters.Keys.All(hp.ContainsKey))
        {
            return d;
        }

        var filled = new Dictionary<string, string>(hp, StringComparer.Ordinal);
        foreach (var (key, value) in TrainingVocabulary.DefaultTexts)
        {
            filled.TryAdd(key, value);
        }

        return d with { Training = d.Training with { Hyperparameters = filled.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal) } };
    }

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
