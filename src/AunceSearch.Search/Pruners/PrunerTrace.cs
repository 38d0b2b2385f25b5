using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AunceSearch.Model;

namespace AunceSearch.Search.Pruners;

/// <summary>A trace in the <c>aunce-pruner-trace/1</c> format (tests/fixtures/aunce/pruner-traces/README.md).</summary>
public sealed record PrunerTrace(Direction Direction, JsonObject Pruner, IReadOnlyList<TraceEvent> Events)
{
    /// <summary>Parses a trace; errors name the file and the event index.</summary>
    public static PrunerTrace Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FormatException($"{path}: trace file not found");
        }

        JsonNode root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new FormatException($"{path}: empty JSON");
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}: malformed JSON: {e.Message}");
        }

        // Every field is read by what it must be: a file of another shape is named by what was expected, never by a
        // JSON library's message.
        if (root is not JsonObject top)
        {
            throw new FormatException($"{path}: not an aunce-pruner-trace/1 file: expected a JSON object with format, direction, pruner and events, got {Kind(root)}");
        }

        var format = Optional<string>(top, "format", "", "a string");
        if (format != "aunce-pruner-trace/1")
        {
            throw new FormatException($"{path}: format '{format}' is not aunce-pruner-trace/1");
        }

        var direction = Optional<string>(top, "direction", "", "a string") switch
        {
            "minimize" => Direction.Minimize,
            "maximize" => Direction.Maximize,
            var d => throw new FormatException($"{path}: direction '{d}' is not minimize or maximize"),
        };
        var pruner = top["pruner"] as JsonObject ?? throw new FormatException($"{path}: 'pruner' must be an object (its kind and options), got {Kind(top["pruner"])}");
        var events = new List<TraceEvent>();
        var i = 0;
        foreach (var e in top["events"] as JsonArray ?? throw new FormatException($"{path}: 'events' must be an array, got {Kind(top["events"])}"))
        {
            var where = $"events[{i}].";
            if (e is not JsonObject o || o["trial"] is null)
            {
                throw new FormatException($"{path}: events[{i}] has no trial" + (e is JsonObject ? "" : $" (an event is an object, got {Kind(e)})"));
            }

            var trial = Optional<int>(o, "trial", where, "a whole number")!;
            var value = o["value"] is null ? double.NaN : Optional<double>(o, "value", where, "a number");
            if (o["complete"] is not null && Optional<bool>(o, "complete", where, "true or false"))
            {
                events.Add(new TraceEvent(trial, null, value, true, null));
            }
            else
            {
                var step = o["step"] is null ? throw new FormatException($"{path}: events[{i}] has neither step nor complete") : Optional<int>(o, "step", where, "a whole number");
                events.Add(new TraceEvent(trial, step, value, false, o["decision"] is null ? null : Optional<string>(o, "decision", where, "a string")));
            }

            i++;
        }

        T Optional<T>(JsonObject o, string name, string where, string expected) =>
            o[name] is null ? default!
            : o[name] is JsonValue v && v.TryGetValue<T>(out var x) ? x
            : throw new FormatException($"{path}: {where}{name} must be {expected}, got {Kind(o[name])}");

        return new PrunerTrace(direction, pruner, events);
    }

    /// <summary>A JSON value as an error names it: its kind, and the value itself when it is short.</summary>
    private static string Kind(JsonNode? node) => node switch
    {
        null => "nothing",
        JsonObject => "an object",
        JsonArray a => $"an array of {a.Count}",
        _ when node.ToJsonString() is { Length: <= 40 } text => text,
        _ => "a long " + node.GetValueKind().ToString().ToLowerInvariant(),
    };

    /// <summary>The AunceSearch pruner configured like the trace's Optuna pruner.</summary>
    public IPruner CreatePruner()
    {
        int I(string k) => Pruner[k]?.GetValue<int>() ?? throw new FormatException($"pruner: missing '{k}'");
        double D(string k) => Pruner[k]?.GetValue<double>() ?? throw new FormatException($"pruner: missing '{k}'");
        return Pruner["kind"]?.GetValue<string>() switch
        {
            "successive_halving" => new SuccessiveHalvingPruner(I("min_resource"), I("reduction_factor"), I("min_early_stopping_rate"), I("bootstrap_count"), Direction),
            "hyperband" => new HyperbandPruner(I("min_resource"), I("max_resource"), I("reduction_factor"), I("bootstrap_count"),
                Pruner["study_name"]?.GetValue<string>() ?? throw new FormatException("pruner: missing 'study_name'"), Direction),
            "median" => PercentilePruner.Median(I("n_startup_trials"), I("n_warmup_steps"), I("interval_steps"), I("n_min_trials"), Direction),
            "percentile" => new PercentilePruner(D("percentile"), I("n_startup_trials"), I("n_warmup_steps"), I("interval_steps"), I("n_min_trials"), Direction),
            var k => throw new FormatException($"pruner kind '{k}' is not one of successive_halving, hyperband, median, percentile"),
        };
    }

    /// <summary>Feeds the events in order; returns one decision per report event.</summary>
    public IReadOnlyList<SchedulerDecision> Replay(StudyState? state = null, int from = 0, IPruner? pruner = null)
    {
        state ??= new StudyState();
        pruner ??= CreatePruner();
        var decisions = new List<SchedulerDecision>();
        for (var i = from; i < Events.Count; i++)
        {
            var e = Events[i];
            if (e.Complete)
            {
                state.Complete(e.Trial);
            }
            else
            {
                decisions.Add(pruner.ReportAndApply(state, e.Trial, e.Step!.Value, e.Value));
            }
        }

        return decisions;
    }

    /// <summary>The JSON line printed for a decision.</summary>
    public static string JsonLine(SchedulerDecision d) =>
        string.Create(CultureInfo.InvariantCulture, $"{{\"trial\": {d.Trial}, \"step\": {d.Step}, \"decision\": \"{(d.Kind == DecisionKind.Stop ? "prune" : "continue")}\"}}");
}
