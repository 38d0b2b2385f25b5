using AunceSearch.Search;
using AunceSearch.Search.Pruners;

namespace AunceSearch.Cli;

/// <summary><c>aunce scheduler replay TRACE.json [--check] [--explain]</c>.</summary>
public static class SchedulerReplay
{
    public static int Run(string path, bool check, bool explain, TextWriter stdout, TextWriter stderr)
    {
        PrunerTrace trace;
        IReadOnlyList<SchedulerDecision> decisions;
        try
        {
            trace = PrunerTrace.Load(path);
            decisions = trace.Replay();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            stderr.WriteLine($"error: {path}: {e.Message.Replace($"{path}: ", "", StringComparison.Ordinal)}");
            return ExitCodes.BadInput;
        }

        var reports = trace.Events.Where(e => !e.Complete).ToList();
        var mismatches = new List<string>();
        for (var i = 0; i < decisions.Count; i++)
        {
            var d = decisions[i];
            stdout.WriteLine(explain ? $"{PrunerTrace.JsonLine(d)}  # {d.Reason}" : PrunerTrace.JsonLine(d));
            var ours = d.Kind == DecisionKind.Stop ? "prune" : "continue";
            if (check && reports[i].Decision is { } expected && expected != ours)
            {
                mismatches.Add($"trial {d.Trial} step {d.Step}: trace says {expected}, AunceSearch says {ours} ({d.Reason})");
            }
        }

        if (!check)
        {
            return ExitCodes.Ok;
        }

        var compared = reports.Count(r => r.Decision is not null);
        if (mismatches.Count == 0)
        {
            stderr.WriteLine($"check: {compared} of {compared} decisions agree");
            return ExitCodes.Ok;
        }

        stderr.WriteLine($"check: {mismatches.Count} of {compared} decisions differ:");
        foreach (var m in mismatches)
        {
            stderr.WriteLine("  " + m);
        }

        return ExitCodes.Failed;
    }
}
