using AunceSearch.Contracts;
using Spectre.Console.Testing;

namespace AunceSearch.Cli.Tests;

public sealed class LiveProgressTests
{
    private static TrialRow Trial(int n, TrialState state, int epoch, double? value) => new(n, state, epoch, 4, value, value, value is null ? null : 0.5,
        new Dictionary<string, string> { ["lr"] = (0.001 * (n + 1)).ToString(System.Globalization.CultureInfo.InvariantCulture) }, [], []);

    private static SweepOverview Overview(int total, int? best, params TrialRow[] trials) => new()
    {
        SweepId = "demo-1",
        Name = "demo",
        State = SweepState.Running,
        TotalTrials = total,
        Started = trials.Length,
        TrialsByState = trials.GroupBy(t => t.State).ToDictionary(g => g.Key, g => g.Count()),
        BestTrial = best,
    };

    /// <summary>The pages the coordinator would answer <see cref="LiveProgress.Queries"/> with.</summary>
    private static LiveView View(SweepOverview overview, TrialRow[] trials)
    {
        var (running, best) = LiveProgress.Queries(overview);
        TrialPage Page(IEnumerable<TrialRow> rows, int limit) => new(rows.Count(), 0, limit, [.. rows.Take(limit)]);
        return new LiveView(overview,
            Page(trials.Where(t => t.State == running.State).OrderBy(t => t.Trial), running.Limit),
            Page(trials.OrderBy(t => t.Value is null).ThenByDescending(t => t.Value).ThenBy(t => t.Trial), best.Limit));
    }

    [Fact]
    public void The_live_view_shows_the_trials_their_progress_and_the_latest_events()
    {
        TrialRow[] trials = [Trial(0, TrialState.Completed, 4, 0.6123), Trial(1, TrialState.Running, 2, 0.4), Trial(2, TrialState.Pruned, 1, 0.3)];
        var events = Enumerable.Range(1, 12).Select(i => new SweepEvent(i, "fold-epoch", 1, 1, 1, 0.4, "running", $"event number {i}")).ToArray();
        var console = new TestConsole().Width(120);
        console.Write(LiveProgress.Render(View(Overview(5, 0, trials), trials), events, TimeSpan.FromSeconds(42), ["lr"]));
        var text = console.Output;
        Assert.Contains("sweep demo-1: running, 2 of 5 trials finished, 1 running, 42 s", text);
        Assert.Matches(@"\* 0\s*│\s*completed\s*│\s*4/4\s*│\s*0\.6123", text);
        Assert.Matches(@"1\s*│\s*running\s*│\s*2/4\s*│\s*0\.4000", text);
        Assert.Matches(@"2\s*│\s*pruned\s*│\s*1/4\s*│\s*0\.3000", text);
        Assert.Contains("0.002", text);
        Assert.Contains("event number 12", text);
        Assert.DoesNotContain("event number 4\n", text);   // only the last 8 events
        Assert.DoesNotContain("lists every trial", text);   // nothing left out
        Assert.False(LiveProgress.Usable(new StringWriter(), plain: false));   // tests and pipes get plain lines
    }

    [Fact]
    public void A_large_sweep_shows_its_running_trials_first_then_its_best_and_says_what_it_left_out()
    {
        // 2,000 finished trials (value rising with the trial number) and 40 running: the table keeps to its rows.
        TrialRow[] trials = [.. Enumerable.Range(0, 2000).Select(n => Trial(n, TrialState.Completed, 4, n / 10000.0)),
            .. Enumerable.Range(2000, 40).Select(n => Trial(n, TrialState.Running, 1, null))];
        var console = new TestConsole().Width(160);
        console.Write(LiveProgress.Render(View(Overview(5000, 1999, trials), trials), [], TimeSpan.FromSeconds(5), ["lr"]));
        var rows = console.Output.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^│\s*(\* )?\d+\s*│")).ToList();
        Assert.Equal(LiveProgress.Rows, rows.Count);
        Assert.All(rows.Take(LiveProgress.RunningRows), r => Assert.Contains("running", r));
        Assert.Matches(@"│\s*2000\s*│\s*running", rows[0]);   // running trials in trial order
        Assert.Matches(@"\* 1999\s*│\s*completed", rows[LiveProgress.RunningRows]);   // then the best first
        Assert.Matches(@"1992\s*│\s*completed", rows[^1]);
        Assert.Contains("16 of 40 running and the best 8 of the others shown", console.Output);
        Assert.Contains("sweep demo-1: running, 2000 of 5000 trials finished, 40 running", console.Output);
    }
}
