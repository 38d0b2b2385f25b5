using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using AunceSearch.Grains.Placement;
using AunceSearch.Training;
using Microsoft.Extensions.Logging;

namespace AunceSearch.Grains;

/// <summary>
/// Trains one fold of one trial on a trainer silo: the grain orchestrates (the activation's life, the slot, the end's
/// report) and a <see cref="FoldLeg"/> trains each leg (on a dedicated thread of the silo's <see cref="TrainingExecutor"/>;
/// each finished epoch's checkpoint is written to the store and its report goes to the trial). The grain's own turns never
/// block on training.
/// </summary>
[RequireSiloMetadata(TrainerSilo.MetadataKey, "true")]
[Orleans.Placement.RandomPlacement]
public sealed partial class FoldGrain(
    IFoldTrainingRunner trainer,
    ICheckpointStore store,
    CheckpointStoreOptions checkpoints,
    StorageRetry retry,
    ILocalSiloDetails silo,
    LocalFolds local,
    ILogger<FoldGrain> logger,
    ILogger<FoldLeg> legLogger,
    TimeProvider? time = null)
    : Grain, IFoldGrain
{
    private CancellationTokenSource? _cancel;
    private bool _training;

    /// <summary>
    /// The last epoch whose report reached the sweep (from the leg's FromEpoch, or the fold's own reports the sweep
    /// stored before a crash, <see cref="TrialAssignment.Delivered"/>). Training resumes from this
    /// epoch's checkpoint, not from a newer one: an epoch that was checkpointed but never reported (the coordinator died
    /// in between) is trained again — deterministically, so with the same result — and this time reported.
    /// </summary>
    private int _delivered;

    /// <summary>Whether this activation has started a leg (a lost activation's replacement has not).</summary>
    private bool _started;

    /// <summary>The current leg's run (training, delivery, the end's report).</summary>
    private Task? _run;

    /// <summary>How many legs this activation started: a leg's run ends the activation only if no later leg started meanwhile.</summary>
    private int _legs;

    /// <summary>Set when the activation goes away while training (its silo drains): the leg is abandoned, not ended.</summary>
    private bool _draining;

    /// <summary>
    /// A silo that stops (SIGTERM, a scale-down) deactivates its folds: training stops at the next step and the leg is
    /// abandoned without a report — the epoch in progress is lost, every stored one is kept — and the sweep's re-drive
    /// starts the fold on another trainer after its last stored epoch.
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_training && _run is { } run)
        {
            _draining = true;
            LogDraining(logger, this.GetPrimaryKeyString(), reason.Description);
            _cancel?.Cancel();
            try
            {
                await run.WaitAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException)
            {
                // the silo's deactivation deadline came first
            }
        }
    }

    public Task EnsureRunningAsync(FoldAssignment assignment) => _started ? Task.CompletedTask : StartAsync(assignment);

    public Task StartAsync(FoldAssignment assignment)
    {
        if (_training)
        {
            return Task.CompletedTask;
        }

        _training = true;
        _started = true;
        _delivered = Math.Max(assignment.Trial.FromEpoch,
            assignment.Trial.Delivered?.Where(r => r.Fold == assignment.Fold).Select(r => r.Epoch).DefaultIfEmpty(0).Max() ?? 0);

        // Keep the activation alive while it trains, however long no message arrives.
        DelayDeactivation(TimeSpan.FromDays(7));
        local.Add(this.GetPrimaryKeyString(), assignment.Trial.SweepId, assignment.Device);   // listed in this silo's slot adverts
        _cancel = new CancellationTokenSource();
        _run = RunAsync(assignment, ++_legs, _cancel.Token);
        return Task.CompletedTask;
    }

    public Task StopAsync()
    {
        _cancel?.Cancel();
        return Task.CompletedTask;
    }

    private async Task RunAsync(FoldAssignment a, int leg, CancellationToken cancellationToken)
    {
        var trial = GrainFactory.GetGrain<ITrialGrain>(GrainKeys.Trial(a.Trial.SweepId, a.Trial.Trial));
        var run = new FoldLeg(a, _delivered, new LegHost(this, trial), trainer, store, checkpoints, retry, time ?? TimeProvider.System, silo.Name, legLogger);
        var (outcome, error, abandoned) = await run.RunAsync(cancellationToken);
        _delivered = run.Delivered;

        // The slot is free before the trial hears of the end: the trial may queue the next leg (a promotion) at once.
        await ReleaseSlotAsync();
        if (abandoned || _draining)
        {
            // Its trial is out of reach: no end is reported (a new trial activation would take it for this leg's end). This
            // activation goes; the sweep's re-drive (or resume) starts a new one after the last stored epoch.
            _training = false;
            EndActivation();
            return;
        }

        // Training is over before the trial hears of it: the trial may start the next leg (a promotion) at once.
        _training = false;
        try
        {
            await trial.OnFoldFinishedAsync(a.Fold, outcome, error);
        }
        catch (Exception e)
        {
            LogEndUndeliverable(logger, this.GetPrimaryKeyString(), FoldLeg.FirstLine(e));   // the sweep's re-drive restarts the trial
            FoldLeg.LogUndeliverableDetail(logger, e, this.GetPrimaryKeyString());
        }

        // A promotion may have started the next leg while the end was out, and that leg may even have ended and deactivated
        // this activation already: only the latest leg decides.
        if (!_training && leg == _legs)
        {
            EndActivation();
        }
    }

    /// <summary>The leg's view of this grain: its key, whether its silo drains, and its trial.</summary>
    private sealed class LegHost(FoldGrain grain, ITrialGrain trial) : IFoldLegHost
    {
        public string Label => grain.GetPrimaryKeyString();

        public bool Draining => grain._draining;

        public Task ReportAsync(FoldEpochReport report) => trial.OnFoldEpochAsync(report);
    }

    /// <summary>Tells the slot director this fold's slot is free (if that fails, the silo's next advert, without it, frees it).</summary>
    private async Task ReleaseSlotAsync()
    {
        var key = this.GetPrimaryKeyString();
        local.Remove(key);
        if (_draining)
        {
            return;   // the silo is going: the director ends its leases when membership says so, and no call holds the drain up
        }

        try
        {
            await GrainFactory.GetGrain<ISlotDirectorGrain>(GrainKeys.SlotDirector).ReleaseAsync(key, silo.SiloAddress.ToParsableString())
                .WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e)
        {
            LogReleaseFailed(logger, key, e.Message.Split('\n')[0]);
        }
    }

    [LoggerMessage(EventId = 1013, Level = LogLevel.Debug, Message = "Fold {FoldKey}: releasing its slot failed ({Reason}); the silo's next advert frees it")]
    private static partial void LogReleaseFailed(ILogger logger, string foldKey, string reason);

    /// <summary>
    /// Asks for this activation to go once its leg's run is over. The run is nobody's call, so nothing would observe a
    /// failure here: when the silo is already shutting down (the activation or the runtime is gone) there is nothing to end.
    /// </summary>
    private void EndActivation()
    {
        try
        {
            DeactivateOnIdle();
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            LogAlreadyGone(logger, this.GetPrimaryKeyString(), e.Message);
        }
    }

    [LoggerMessage(EventId = 1011, Level = LogLevel.Debug, Message = "Fold {FoldKey}: its activation was already gone when its leg ended ({Reason})")]
    private static partial void LogAlreadyGone(ILogger logger, string foldKey, string reason);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Fold {FoldKey}: deactivated while training ({Reason}); training stops at the next step, the sweep restarts it elsewhere")]
    private static partial void LogDraining(ILogger logger, string foldKey, string reason);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Fold {FoldKey}: its end cannot reach its trial ({Reason}); the sweep's re-drive restarts the trial")]
    private static partial void LogEndUndeliverable(ILogger logger, string foldKey, string reason);

}
