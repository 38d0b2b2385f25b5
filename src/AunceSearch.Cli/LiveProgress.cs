using System.Globalization;
using AunceSearch.Contracts;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace AunceSearch.Cli;

/// <summary>What the live view shows: the sweep at a glance, its running trials and its best ones (pages, not every trial).</summary>
public sealed record LiveView(SweepOverview Overview, TrialPage Running, TrialPage Best);

/// <summary>
/// The terminal view of a running sweep (Spectre.Console): a heading with the sweep's counts, a live table of its running
/// trials and then its best ones — state, epoch of target, fold-mean value, accuracy, hyperparameters — at most
/// <see cref="Rows"/> rows, above its latest events, redrawn in place. Its data are an overview and two trial pages, so a
/// sweep of 10,000 trials costs the coordinator no more per redraw than one of ten. Used only when stdout is an
/// interactive terminal and <c>--plain</c> is not given; otherwise the sweep prints one line per event (logs, CI, tests).
/// </summary>
public static class LiveProgress
{
    /// <summary>Most rows in the table; running trials take up to <see cref="RunningRows"/> of them, the best the rest.</summary>
    public const int Rows = 24;

    public const int RunningRows = 16;

    /// <summary>Whether <paramref name="stdout"/> is this process's interactive terminal.</summary>
    public static bool Usable(TextWriter stdout, bool plain) =>
        !plain && ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>The queries behind a view: running trials in trial order, and every trial by value, best first.</summary>
    public static (TrialQuery Running, TrialQuery Best) Queries(SweepOverview overview) =>
        (new TrialQuery { State = TrialState.Running, Sort = TrialSort.Trial, Limit = RunningRows },
         new TrialQuery { Sort = TrialSort.Value, Descending = overview.Mode != "min", Limit = Rows });

    /// <summary>The view: a heading, the trials table, and the last <paramref name="events"/> (newest last).</summary>
    public static IRenderable Render(LiveView view, IReadOnlyList<SweepEvent> events, TimeSpan elapsed, IReadOnlyList<string> parameters)
    {
        var o = view.Overview;
        int Count(params TrialState[] states) => states.Sum(s => o.TrialsByState.GetValueOrDefault(s));
        var finished = Count(TrialState.Completed, TrialState.Pruned, TrialState.Failed);
        var heading = new Markup(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"sweep {o.SweepId}: {o.State.ToString().ToLowerInvariant()}, {finished} of {o.TotalTrials} trials finished, " +
            $"{Count(TrialState.Running)} running, {elapsed.TotalSeconds:0} s")));
        var table = new Table().Border(TableBorder.Rounded).Expand();
        table.AddColumn("trial", c => c.RightAligned());
        table.AddColumn("state");
        table.AddColumn("epoch", c => c.RightAligned());
        table.AddColumn(o.Metric, c => c.RightAligned());
        table.AddColumn("acc", c => c.RightAligned());
        foreach (var p in parameters)
        {
            table.AddColumn(Markup.Escape(p), c => c.RightAligned());
        }

        var running = view.Running.Items.Take(RunningRows).ToList();
        var best = view.Best.Items.Where(t => t.State != TrialState.Running && t.Value is not null).Take(Rows - running.Count).ToList();
        foreach (var t in running.Concat(best))
        {
            var isBest = t.Trial == o.BestTrial;
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
                (isBest ? "[bold]* " : "") + t.Trial.ToString(CultureInfo.InvariantCulture) + (isBest ? "[/]" : ""),
                state,
                $"{t.LastEpoch}/{(t.TargetEpoch > 0 ? t.TargetEpoch : t.LastEpoch)}",
                t.Value is { } v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-",
                t.MeanAccuracy is { } a ? a.ToString("0.0000", CultureInfo.InvariantCulture) : "-",
            };
            cells.AddRange(parameters.Select(p => t.Hyperparameters.TryGetValue(p, out var value) &&
                                                  double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                ? d.ToString("G4", CultureInfo.InvariantCulture)
                : "-"));
            table.AddRow([.. cells]);
        }

        var shown = new List<IRenderable> { heading, table };
        var hiddenRunning = Count(TrialState.Running) - running.Count;
        var hiddenOthers = o.Started - Count(TrialState.Running) - best.Count;
        if (hiddenRunning > 0 || hiddenOthers > 0)
        {
            shown.Add(new Text(string.Create(CultureInfo.InvariantCulture,
                $"{running.Count} of {Count(TrialState.Running)} running and the best {best.Count} of the others shown; " +
                $"`aunce sweep status {o.SweepId}` or the dashboard (`aunce serve`) lists every trial"), new Style(Color.Grey)));
        }

        shown.AddRange(events.TakeLast(8).Select(e => (IRenderable)new Text(e.Message, new Style(Color.Grey))));
        return new Rows(shown);
    }
}
