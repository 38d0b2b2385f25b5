using AunceSearch.Contracts;
using Spectre.Console.Testing;

namespace AunceSearch.Cli.Tests;

public sealed class LiveProgressTests
{
    private static TrialSummary Trial(int n, TrialState state, int epoch, double? value) => new()
    {
        Trial = n,
        State = state,
        Hyperparameters = new Dictionary<string, string> { ["lr"] = (0.001 * (n + 1)).ToString(System.Globalization.CultureInfo.InvariantCulture) },
        LastEpoch = epoch,
        TargetEpoch = 4,
        LastValue = value,
        LastMeanAccuracy = value is null ? null : 0.5,
    };

    [Fact]
    public void The_live_view_shows_every_trial_its_progress_and_the_latest_events()
    {
        var status = new SweepStatus
        {
            SweepId = "demo-1",
            State = SweepState.Running,
            TotalTrials = 5,
            Trials = [Trial(0, TrialState.Completed, 4, 0.6123), Trial(1, TrialState.Running, 2, 0.4), Trial(2, TrialState.Pruned, 1, 0.3)],
            BestTrial = 0,
        };
        var events = Enumerable.Range(1, 12).Select(i => new SweepEvent(i, "fold-epoch", 1, 1, 1, 0.4, "running", $"event number {i}")).ToArray();
        var console = new TestConsole().Width(120);
        console.Write(LiveProgress.Render(status, events, TimeSpan.FromSeconds(42), ["lr"]));
        var text = console.Output;
        Assert.Contains("sweep demo-1: running, 2 of 5 trials finished, 1 running, 42 s", text);
        Assert.Matches(@"\* 0\s*│\s*completed\s*│\s*4/4\s*│\s*0\.6123", text);
        Assert.Matches(@"1\s*│\s*running\s*│\s*2/4\s*│\s*0\.4000", text);
        Assert.Contains("0.002", text);
        Assert.Contains("event number 12", text);
        Assert.DoesNotContain("event number 4\n", text);   // only the last 8 events
        Assert.False(LiveProgress.Usable(new StringWriter(), plain: false));   // tests and pipes get plain lines
    }
}
