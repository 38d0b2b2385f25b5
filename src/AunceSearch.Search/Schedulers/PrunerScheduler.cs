using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Schedulers;

/// <summary>Any pruner (successive halving, Hyperband, median, percentile, the Vizier median stopping rule) as a trial scheduler.</summary>
public sealed class PrunerScheduler(IPruner pruner, int maxSteps, string name) : StoppingScheduler(maxSteps)
{
    public IPruner Pruner { get; } = pruner;

    public override string Name => name;

    protected override SchedulerDecision Decide(SchedulerState state, TrialReport r) => Pruner.Report(state.Study, r.Trial, r.Step, r.Value);
}
