using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AunceSearch.Search.Pruners;

/// <summary>One event of a pruner trace: a report (with the recorded decision, if any) or a completion.</summary>
public sealed record TraceEvent(int Trial, int? Step, double Value, bool Complete, string? Decision);

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

        var format = root["format"]?.GetValue<string>();
        if (format != "aunce-pruner-trace/1")
        {
            throw new FormatException($"{path}: format '{format}' is not aunce-pruner-trace/1");
        }

        var direction = root["direction"]?.GetValue<string>() switch
        {
            "minimize" => Direction.Minimize,
            "maximize" => Direction.Maximize,
            var d => throw new FormatException($"{path}: direction '{d}' is not minimize or maximize"),
        };
        var pruner = root["pruner"] as JsonObject ?? throw new FormatException($"{path}: missing 'pruner'");
        var events = new List<TraceEvent>();
        var i = 0;
        foreach (var e in root["events"] as JsonArray ?? throw new FormatException($"{path}: missing 'events'"))
        {
            if (e is not JsonObject o || o["trial"] is null)
            {
                throw new FormatException($"{path}: events[{i}] has no trial");
            }

            var trial = o["trial"]!.GetValue<int>();
            var value = o["value"] is null ? double.NaN : o["value"]!.GetValue<double>();
            if (o["complete"]?.GetValue<bool>() == true)
            {
                events.Add(new TraceEvent(trial, null, value, true, null));
            }
            else
            {
                var step = o["step"]?.GetValue<int>() ?? throw new FormatException($"{path}: events[{i}] has neither step nor complete");
                events.Add(new TraceEvent(trial, step, value, false, o["decision"]?.GetValue<string>()));
            }

            i++;
        }

        return new PrunerTrace(direction, pruner, events);
    }

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
