using AunceSearch.Search.Schedulers;

namespace AunceSearch.Search.Tests;

public class PbtTrialSchedulerTests
{
    private static readonly SearchSpace Space = new([new FloatDomain("lr", 1e-4, 1e-1, Log: true), new FloatDomain("temperature", 0.1, 1.0)]);

    private static PbtTrialScheduler Create(int interval = 2, int burnIn = 0) =>
        new(6, new PbtExploitRule(Space, new PbtOptions { PerturbationInterval = interval, BurnInPeriod = burnIn, QuantileFraction = 0.5 }, 42));

    private static SchedulerJob Start(PbtTrialScheduler s, SchedulerState state, double lr)
    {
        var job = s.NextJob(state, true, []).Job!;
        s.OnTrialConfig(state, job.Trial, new Dictionary<string, string> { ["lr"] = lr.ToString(System.Globalization.CultureInfo.InvariantCulture), ["temperature"] = "0.5", ["batch_size"] = "32" });
        return job;
    }

    [Fact]
    public void The_population_starts_first_and_legs_end_at_perturbation_points()
    {
        var s = Create(interval: 2, burnIn: 3);
        var state = s.NewState();
        var a = Start(s, state, 0.01);
        var b = Start(s, state, 0.001);
        Assert.Equal((0, true, 3), (a.Trial, a.IsNew, a.TargetStep));   // first leg: max(interval, burn-in)
        Assert.Equal((1, true, 3), (b.Trial, b.IsNew, b.TargetStep));
        Assert.Equal(DecisionKind.Continue, s.OnReport(state, new TrialReport(0, 1, 0.3)).Kind);
        Assert.Equal(DecisionKind.Continue, s.OnReport(state, new TrialReport(0, 2, 0.4)).Kind);
        Assert.Equal(DecisionKind.Pause, s.OnReport(state, new TrialReport(0, 3, 0.5)).Kind);
        var leg = s.NextJob(state, false, [1]).Job!;
        Assert.Equal((0, false, 5), (leg.Trial, leg.IsNew, leg.TargetStep));   // the next leg: 3 + interval
    }

    [Fact]
    public void The_worse_trial_exploits_the_better_ones_checkpoint_and_explored_config()
    {
        var s = Create();
        var state = s.NewState();
        Start(s, state, 0.01);
        Start(s, state, 0.001);
        s.OnReport(state, new TrialReport(0, 1, 0.40));
        var p0 = s.OnReport(state, new TrialReport(0, 2, 0.50));
        Assert.Equal(DecisionKind.Pause, p0.Kind);
        Assert.Contains("will continue", p0.Reason);
        s.OnReport(state, new TrialReport(1, 1, 0.20));
        var p1 = s.OnReport(state, new TrialReport(1, 2, 0.25));
        Assert.Equal(DecisionKind.Pause, p1.Kind);
        Assert.Contains("will exploit trial 0", p1.Reason);

        var restored = SchedulerStateJson.Deserialize(SchedulerStateJson.Serialize(state));
        var first = s.NextJob(state, false, []).Job!;
        var second = s.NextJob(state, false, []).Job!;
        Assert.Equal((0, false, 4, (int?)null), (first.Trial, first.IsNew, first.TargetStep, first.Source));
        Assert.Equal(DecisionKind.Promote, first.Decision!.Kind);
        Assert.Equal((1, false, 4, (int?)0, (int?)2), (second.Trial, second.IsNew, second.TargetStep, second.Source, second.FromStep));
        Assert.Equal(DecisionKind.Exploit, second.Decision!.Kind);
        Assert.Contains("exploits trial 0", second.Decision.Reason);
        Assert.InRange(double.Parse(second.Config!["temperature"], System.Globalization.CultureInfo.InvariantCulture), 0.1, 1.0);
        Assert.Equal("32", second.Config["batch_size"]);                  // fixed values travel with the copy
        var lr = double.Parse(second.Config["lr"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(lr, 1e-4, 1e-1);
        Assert.Null(s.NextJob(state, false, []).Job);

        // A restored state decides the same jobs.
        var again = s.NextJob(restored, false, []).Job!;
        var again2 = s.NextJob(restored, false, []).Job!;
        Assert.Equal(first, again with { Config = first.Config });
        Assert.Equal(second.Config, again2.Config);
        Assert.Equal(second.Decision, again2.Decision);
    }

    [Fact]
    public void Trials_complete_at_max_t_and_never_stop()
    {
        var s = Create();
        var state = s.NewState();
        Start(s, state, 0.01);
        Assert.Equal(DecisionKind.Complete, s.OnReport(state, new TrialReport(0, 6, 0.5)).Kind);
        s.OnTrialEnded(state, 0, Pruners.TrialPhase.Complete);
        Assert.Empty(s.Finish(state));
        Assert.Null(s.NextJob(state, false, []).Job);
    }
}
