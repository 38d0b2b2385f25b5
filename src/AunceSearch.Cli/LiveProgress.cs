using System.Globalization;
using AunceSearch.Contracts;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace AunceSearch.Cli;

/// <summary>
/// The terminal view of a running sweep (Spectre.Console): a live table of its trials — state, epoch of target, fold-mean
/// value, accuracy, hyperparameters — above its latest events, redrawn in place. Used only when stdout is an interactive
/// terminal and <c>--plain</c> is not given; otherwise the sweep prints one line per event (logs, CI, tests).
/// </summary>
public static class LiveProgress
{
    /// <summary>Whether <paramref name="stdout"/> is this process's interactive terminal.</summary>
    public static bool Usable(TextWriter stdout, bool plain) =>
        !plain && ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>The view: a heading, the trials table, and the last <paramref name="events"/> (newest last).</summary>
    public static IRenderable Render(SweepStatus status, IReadOnlyList<SweepEvent> events, TimeSpan elapsed, IReadOnlyList<string> parameters)
    {
        var finished = status.Trials.Count(t => t.State is TrialState.Completed or TrialState.Pruned or TrialState.Failed);
        var heading = new Markup(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"sweep {status.SweepId}: {status.State.ToString().ToLowerInvariant()}, {finished} of {status.TotalTrials} trials finished, " +
            $"{status.Trials.Count(t => t.State == TrialState.Running)} running, {elapsed.TotalSeconds:0} s")));
        var table = new Table().Border(TableBorder.Rounded).Expand();
        table.AddColumn("trial", c => c.RightAligned());
        table.AddColumn("state");
        table.AddColumn("epoch", c => c.RightAligned());
        table.AddColumn(status.Metric, c => c.RightAligned());
        table.AddColumn("acc", c => c.RightAligned());
        foreach (var p in parameters)
        {
            table.AddColumn(Markup.Escape(p), c => c.RightAligned());
        }

        foreach (var t in status.Trials.OrderBy(t => t.Trial))
        {
            var best = t.Trial == status.BestTrial;
            var state = t.State switch
            {
                TrialState.Running => "[green]running[/]",
                TrialState.Completed => "[bold]completed[/]",
                TrialState.Failed => "[red]failed[/]",
                TrialState.Paused => "[yellow]paused[/]",
                _ => "[grey]" + t.State.ToString().ToLowerInvariant() + "[/]",
            };
            var cells = new List<string>
            {
                (best ? "[bold]* " : "") + t.Trial.ToString(CultureInfo.InvariantCulture) + (best ? "[/]" : ""),
                state,
                $"{t.LastEpoch}/{(t.TargetEpoch > 0 ? t.TargetEpoch : t.LastEpoch)}",
                t.LastValue is { } v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-",
                t.LastMeanAccuracy is { } a ? a.ToString("0.0000", CultureInfo.InvariantCulture) : "-",
            };
            cells.AddRange(parameters.Select(p => t.Hyperparameters.TryGetValue(p, out var value) &&
                                                  double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                ? d.ToString("G4", CultureInfo.InvariantCulture)
                : "-"));
            table.AddRow([.. cells]);
        }

        var recent = new Rows(events.TakeLast(8).Select(e => (IRenderable)new Text(e.Message, new Style(Color.Grey))));
        return new Rows(heading, table, recent);
    }
}
