using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Schedulers;

/// <summary>Base for schedulers that only continue or stop: a new trial trains towards max_t and is never paused.</summary>
public abstract class StoppingScheduler(int maxSteps) : ITrialScheduler
{
    public abstract string Name { get; }

    public int MaxSteps { get; } = maxSteps >= 1 ? maxSteps : throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, "max_t must be >= 1");

    public virtual SchedulerState NewState() => new();

    public SchedulerDecision OnReport(SchedulerState state, TrialReport report)
    {
        var d = Decide(state, report);
        if (d.Kind == DecisionKind.Stop)
        {
            state.Study.Trial(report.Trial).Phase = TrialPhase.Pruned;
            return d;
        }

        if (report.Step >= MaxSteps)
        {
            state.Study.Trial(report.Trial).Phase = TrialPhase.Complete;
            return d with { Kind = DecisionKind.Complete, Reason = $"completed at step {report.Step} (max_t {MaxSteps}); {d.Reason}" };
        }

        return d;
    }

    public void OnTrialEnded(SchedulerState state, int trial, TrialPhase phase) => state.Study.Trial(trial).Phase = phase;

    public SchedulerJob? NextJob(SchedulerState state, bool mayStartNew, IReadOnlyCollection<int> running)
    {
        if (!mayStartNew)
        {
            return null;
        }

        return new SchedulerJob(state.Started++, true, MaxSteps, null);
    }

    public IReadOnlyList<SchedulerDecision> Finish(SchedulerState state) => [];

    /// <summary>Records the report and decides continue or stop.</summary>
    protected abstract SchedulerDecision Decide(SchedulerState state, TrialReport report);
}

/// <summary>No early stopping (FIFO): every trial trains to max_t.</summary>
public sealed class FifoScheduler(int maxSteps) : StoppingScheduler(maxSteps)
{
    public override string Name => "none";

    protected override SchedulerDecision Decide(SchedulerState state, TrialReport r)
    {
        state.Study.Trial(r.Trial).Values[r.Step] = r.Value;
        return new SchedulerDecision(r.Trial, r.Step, DecisionKind.Continue, r.Value, null, null, null, null, 0, "continues: no early stopping");
    }
}

/// <summary>ASHA's stopping variant (Ray's ASHAScheduler) as a trial scheduler.</summary>
public sealed class AshaStoppingScheduler(AshaOptions options) : StoppingScheduler(options.MaxT)
{
    private readonly AshaScheduler _asha = new(options);

    public override string Name => "asha (stopping)";

    public override SchedulerState NewState()
    {
        var s = new SchedulerState();
        foreach (var _ in _asha.Milestones)
        {
            s.Rungs.Add([]);
        }

        return s;
    }

    protected override SchedulerDecision Decide(SchedulerState state, TrialReport r)
    {
        state.Study.Trial(r.Trial).Values[r.Step] = r.Value;
        if (state.AshaView is null || !ReferenceEquals(state.AshaView.Rungs, state.Rungs))
        {
            state.AshaView = new AshaState { Rungs = state.Rungs };
        }

        var asha = state.AshaView;
        var d = _asha.OnReport(asha, r);
        return d.Kind == DecisionKind.Complete ? d with { Kind = DecisionKind.Continue } : d;   // the base class completes at max_t
    }
}

/// <summary>Any pruner (successive halving, Hyperband, median, percentile, the Vizier median stopping rule) as a trial scheduler.</summary>
public sealed class PrunerScheduler(IPruner pruner, int maxSteps, string name) : StoppingScheduler(maxSteps)
{
    public IPruner Pruner { get; } = pruner;

    public override string Name => name;

    protected override SchedulerDecision Decide(SchedulerState state, TrialReport r) => Pruner.Report(state.Study, r.Trial, r.Step, r.Value);
}
