using System.Diagnostics;
using System.Threading.Channels;
using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using AunceSearch.Grains.Placement;
using AunceSearch.Training;
using AunceSearch.Training.Data;
using AunceSearch.Training.Evaluation;
using AunceSearch.Training.Models;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace AunceSearch.Grains;

/// <summary>
/// Trains one fold of one trial on a trainer silo. Training runs on a dedicated thread of the silo's
/// <see cref="TrainingExecutor"/>; each finished epoch comes back through a channel, its checkpoint is written to the
/// store, and the report goes to the trial. The grain's own turns never block on training.
/// </summary>
[RequireSiloMetadata(TrainerSilo.MetadataKey, "true")]
[Orleans.Placement.RandomPlacement]
public sealed partial class FoldGrain(IFoldTrainingRunner executor, ICheckpointStore store, CheckpointStoreOptions checkpoints, ILocalSiloDetails silo, LocalFolds local,
    ILogger<FoldGrain> logger)
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
        var t = a.Trial;
        var trial = GrainFactory.GetGrain<ITrialGrain>(GrainKeys.Trial(t.SweepId, t.Trial));
        using var activity = a.TraceParent is { } parent
            ? AunceTelemetry.Source.StartActivity("fold.train", ActivityKind.Internal, parent)
            : AunceTelemetry.Source.StartActivity("fold.train");
        activity?.SetTag("aunce.sweep", t.SweepId);
        activity?.SetTag("aunce.trial", t.Trial);
        activity?.SetTag("aunce.fold", a.Fold);
        string outcome;
        string? error = null;
        var abandoned = false;
        try
        {
            // A failure of the fold's own training (diverged, out of memory, libtorch, bad data) is tried again from the fold's
            // latest delivered checkpoint, up to the sweep's training.max_attempts in all. Infrastructure failures never get
            // here: a lost silo or a drain abandons the leg (the sweep re-drives it), and nothing counts them.
            (TrainingOutcome Outcome, Exception? Error) result = default;
            var attempts = t.MaxAttempts > 0 ? t.MaxAttempts : TrainingDefinition.DefaultMaxAttempts;
            var attempt = 0;
            while (true)
            {
                attempt++;
                bool paused;
                do
                {
                    (result, paused) = await RunOnceAsync();
                }
                while (paused && !cancellationToken.IsCancellationRequested);   // the store took what was held: train on from its last

                if (result.Outcome != TrainingOutcome.Failed || result.Error is null || cancellationToken.IsCancellationRequested || attempt >= attempts)
                {
                    break;
                }

                LogRetrying(logger, result.Error, this.GetPrimaryKeyString(), attempt, attempts, result.Error.Message.Split('\n')[0]);
                AunceTelemetry.FoldRetries.Add(1, new KeyValuePair<string, object?>("aunce.sweep", t.SweepId));
            }

            // Trains from the latest delivered epoch until the leg ends, or until the finished checkpoints the store has not
            // taken yet reach Aunce:Checkpoints:MaxBufferedMiB: then training stops at its next step ("paused"), what it
            // finished is written as the store allows, and the caller trains on from there.
            async Task<((TrainingOutcome, Exception?) Result, bool Paused)> RunOnceAsync()
            {
                var prefix = CheckpointKeys.FoldPrefix(t.SweepId, t.Trial, a.Fold);
                var label = this.GetPrimaryKeyString();

                // The store may be out (a restart, a network cut) as the fold starts: an infrastructure failure, not the
                // trial's, so reading where to resume is tried again with backoff (up to two minutes), as writes are.
                var point = await StorageRetry.RunAsync(async () => await ResumePoint.FindAsync(store, await store.ListAsync(prefix, cancellationToken), _delivered, cancellationToken),
                    (attempt, delay, e) =>
                    {
                        AunceTelemetry.CheckpointFailures.Add(1, new KeyValuePair<string, object?>("aunce.sweep", t.SweepId));
                        LogStoreReadRetry(logger, label, attempt, delay.TotalSeconds, e.Message.Split('\n')[0]);
                    }, cancellationToken: cancellationToken);
                foreach (var (key, reason) in point.Damaged)
                {
                    LogDamagedCheckpoint(logger, this.GetPrimaryKeyString(), key, reason);
                }

                var (latest, resume) = (point.Key, point.Data);
                if (t.SeedCheckpointKeys is { } seeds && (latest is null || CheckpointKeys.EpochOf(latest) <= t.FromEpoch))
                {
                    // PBT exploit: this leg starts from another trial's checkpoint of this fold (unless this leg already
                    // wrote checkpoints of its own past it, after a failure).
                    latest = seeds.FirstOrDefault(k => CheckpointKeys.FoldOf(k) == a.Fold)
                        ?? throw new InvalidOperationException($"{this.GetPrimaryKeyString()}: no seed checkpoint for fold {a.Fold} among {string.Join(", ", seeds)}");
                    var seed = latest;
                    resume = await StorageRetry.RunAsync(() => store.LoadAsync(seed, cancellationToken),
                                 (attempt, delay, e) => LogStoreReadRetry(logger, label, attempt, delay.TotalSeconds, e.Message.Split('\n')[0]), cancellationToken: cancellationToken)
                        ?? throw new InvalidOperationException($"{this.GetPrimaryKeyString()}: PBT seed checkpoint {latest} is missing from the checkpoint store");
                    _ = Checkpoint.Inspect(resume, latest);   // a damaged seed fails the leg with its name and reason
                }

                if (latest is not null)
                {
                    LogResuming(logger, this.GetPrimaryKeyString(), latest);
                }

                var request = new FoldTrainingRequest
                {
                    Label = this.GetPrimaryKeyString(),
                    Dataset = t.Dataset.ToSource(a.Fold),
                    Model = t.Model.ToOptions(),
                    Augment = t.Augment.ToOptions(),
                    Hyperparameters = t.Hyperparameters,
                    Epochs = t.Epochs,
                    Probe = new ProbeOptions { Steps = t.ProbeSteps, LearningRate = t.ProbeLr },
                    Seed = (t.Seed * 1000) + a.Fold,
                    Device = t.Device.ToOptions(),
                    DeviceIndex = a.Device,
                    ResumeFrom = resume,
                };

                var epochs = Channel.CreateUnbounded<(EpochResult Result, byte[] Checkpoint)>(new UnboundedChannelOptions { SingleReader = true });
                using var pause = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var held = new HeldCheckpoints(checkpoints.MaxBufferedBytes);
                var training = executor.RunAsync(request, (r, c) =>
                    {
                        // On the training thread: the epoch waits for the store, and training pauses if too much waits.
                        if (held.Add(c.Length))
                        {
                            pause.Cancel();
                            AunceTelemetry.FoldPauses.Add(1, new KeyValuePair<string, object?>("aunce.sweep", t.SweepId));
                            LogPaused(logger, label, held.Epochs, held.Bytes / 1048576.0, checkpoints.MaxBufferedMiB, r.Epoch);
                        }

                        epochs.Writer.TryWrite((r, c));
                    }, pause.Token)
                    .ContinueWith(task =>
                    {
                        epochs.Writer.TryComplete();
                        return task.IsCanceled || task.Exception?.GetBaseException() is OperationCanceledException
                            ? (TrainingOutcome.Cancelled, null)   // a runner that throws on cancellation instead of saying so
                            : task.Result;
                    }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

                await foreach (var (result, checkpoint) in epochs.Reader.ReadAllAsync(CancellationToken.None))
                {
                    try
                    {
                        if (_draining)
                        {
                            // The silo is stopping: report nothing more. The deactivation waits for this run, and a report could
                            // wait on a trial that is itself waiting to start this fold again (it restarts after its last stored
                            // epoch, so this epoch is trained again there).
                            LogUndeliverableWhileDraining(logger, this.GetPrimaryKeyString(), result.Epoch);
                            continue;
                        }

                        await DeliverAsync(result, checkpoint);
                        _delivered = result.Epoch;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // The checkpoint store or the trial is out of reach (e.g. the coordinator silo died): stop training
                        // at the next step instead of running on unseen; the restarted trial resumes from the checkpoints.
                        if (_draining)
                        {
                            LogUndeliverableWhileDraining(logger, this.GetPrimaryKeyString(), result.Epoch);   // the silo is stopping: expected
                        }
                        else
                        {
                            LogUndeliverable(logger, this.GetPrimaryKeyString(), result.Epoch, e.Message.Split('\n')[0]);
                            LogUndeliverableDetail(logger, e, this.GetPrimaryKeyString());
                        }

                        _cancel?.Cancel();
                        await training;
                        while (epochs.Reader.TryRead(out var unsent))
                        {
                            held.Remove(unsent.Checkpoint.Length);   // dropped with the leg: no longer held
                        }

                        abandoned = true;
                        throw;
                    }
                    finally
                    {
                        held.Remove(checkpoint.Length);
                    }
                }

                var ended = await training;
                var paused = held.Paused && ended.Outcome == TrainingOutcome.Cancelled && !cancellationToken.IsCancellationRequested;
                if (paused)
                {
                    LogResumingAfterPause(logger, label, _delivered);
                }

                return (ended, paused);

                async Task DeliverAsync(EpochResult result, byte[] checkpoint)
                {
                    var key = CheckpointKeys.ForEpoch(t.SweepId, t.Trial, a.Fold, result.Epoch);
                    var sweepTag = new KeyValuePair<string, object?>("aunce.sweep", t.SweepId);
                    var writing = Stopwatch.GetTimestamp();
                    string location;
                    try
                    {
                        AunceTelemetry.CheckpointFailures.Add(0, sweepTag);   // the series exists (at 0) before any failure
                        var label = this.GetPrimaryKeyString();

                        // The store may be out for a while (a restart, a network cut): training goes on meanwhile (finished
                        // epochs wait in the channel), and this write is tried again with backoff for up to two minutes.
                        location = await StorageRetry.RunAsync(() => store.SaveAsync(key, checkpoint, CancellationToken.None), (attempt, delay, e) =>
                        {
                            AunceTelemetry.CheckpointFailures.Add(1, sweepTag);
                            LogCheckpointRetry(logger, label, key, attempt, delay.TotalSeconds, e.Message.Split('\n')[0]);
                        });
                    }
                    catch
                    {
                        AunceTelemetry.CheckpointFailures.Add(1, sweepTag);
                        throw;
                    }

                    AunceTelemetry.CheckpointSeconds.Record(Stopwatch.GetElapsedTime(writing).TotalSeconds, sweepTag);
                    AunceTelemetry.CheckpointBytes.Add(checkpoint.Length, sweepTag);
                    var deviceTag = new KeyValuePair<string, object?>("aunce.device", t.Device.ToOptions());
                    AunceTelemetry.FoldEpochs.Add(1, sweepTag, deviceTag);
                    AunceTelemetry.FoldEpochSeconds.Record(result.Seconds, sweepTag, deviceTag);
                    AunceTelemetry.FoldMetric.Record(result.Metrics.MeanF1, sweepTag);
                    using (var epochSpan = AunceTelemetry.Source.StartActivity("fold.epoch", ActivityKind.Internal, activity?.Context ?? default,
                               startTime: DateTimeOffset.UtcNow - TimeSpan.FromSeconds(result.Seconds)))
                    {
                        epochSpan?.SetTag("aunce.sweep", t.SweepId).SetTag("aunce.trial", t.Trial).SetTag("aunce.fold", a.Fold).SetTag("aunce.epoch", result.Epoch)
                            .SetTag("aunce.f1", result.Metrics.MeanF1).SetTag("aunce.accuracy", result.Metrics.MeanAccuracy).SetTag("aunce.loss", result.TrainLoss)
                            .SetTag("aunce.checkpoint.bytes", checkpoint.Length);
                    }
                    LogEpoch(logger, this.GetPrimaryKeyString(), result.Epoch, result.Metrics.MeanF1, result.TrainLoss, result.Seconds);
                    await trial.OnFoldEpochAsync(new FoldEpochReport(t.Trial, a.Fold, result.Epoch, result.Metrics.MeanF1,
                        result.Metrics.MeanAccuracy, result.TrainLoss, result.Metrics.F1, result.Seconds, key, location, silo.Name)
                    {
                        AccuracyPerAu = result.Metrics.Accuracy,
                        AllActiveF1PerAu = result.Baseline?.AllActiveF1 ?? [],
                        MajorityAccuracyPerAu = result.Baseline?.MajorityAccuracy ?? [],
                        AuNames = [.. result.Metrics.AuNames],
                        Skipped = result.Skipped,
                        CheckpointSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(checkpoint)),
                    });
                }
            }

            var (o, e) = result;
            outcome = o.ToString();
            error = e switch
            {
                null => null,
                TrainingDivergedException => $"diverged: {e.Message}",
                Training.Data.DataFormatException => $"bad data: {e.Message}",
                _ => $"{e.GetType().Name}: {e.Message}",
            };
            if (e is not null && attempts > 1)
            {
                error += $" (failed {attempt} of {attempts} attempts)";
            }

            if (e is not null)
            {
                LogFailed(logger, e, this.GetPrimaryKeyString());
                activity?.SetStatus(ActivityStatusCode.Error, error);
            }
        }
        catch (OperationCanceledException)
        {
            outcome = nameof(TrainingOutcome.Cancelled);
        }
        catch (Exception e)
        {
            outcome = nameof(TrainingOutcome.Failed);
            error = $"{e.GetType().Name}: {e.Message}";
            LogFailed(logger, e, this.GetPrimaryKeyString());
            activity?.SetStatus(ActivityStatusCode.Error, error);
        }

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
            LogEndUndeliverable(logger, this.GetPrimaryKeyString(), e.Message.Split('\n')[0]);   // the sweep's re-drive restarts the trial
            LogUndeliverableDetail(logger, e, this.GetPrimaryKeyString());
        }

        // A promotion may have started the next leg while the end was out, and that leg may even have ended and deactivated
        // this activation already: only the latest leg decides.
        if (!_training && leg == _legs)
        {
            EndActivation();
        }
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

    /// <summary>
    /// What a fold's training has finished and the store not yet taken, counted on the training thread and the grain's
    /// (and in the silo's <c>aunce.checkpoint.held</c> gauge): <see cref="Add"/> says when it is time to pause (more than
    /// one epoch held and over the bound).
    /// </summary>
    private sealed class HeldCheckpoints(long bound)
    {
        private long _bytes;
        private int _epochs;
        private int _paused;

        public long Bytes => Interlocked.Read(ref _bytes);

        public int Epochs => Volatile.Read(ref _epochs);

        public bool Paused => Volatile.Read(ref _paused) == 1;

        /// <summary>Holds one more epoch's checkpoint; true once (the moment training should pause).</summary>
        public bool Add(long bytes)
        {
            AunceTelemetry.CheckpointsHeld.Add(bytes);
            var total = Interlocked.Add(ref _bytes, bytes);
            var epochs = Interlocked.Increment(ref _epochs);
            return epochs > 1 && total > bound && Interlocked.Exchange(ref _paused, 1) == 0;
        }

        public void Remove(long bytes)
        {
            AunceTelemetry.CheckpointsHeld.Add(-bytes);
            Interlocked.Add(ref _bytes, -bytes);
            Interlocked.Decrement(ref _epochs);
        }
    }

    [LoggerMessage(EventId = 1015, Level = LogLevel.Warning, Message = "Fold {FoldKey}: {Epochs} finished epoch(s), {MiB:0.0} MiB of checkpoints, wait for the checkpoint store (bound Aunce:Checkpoints:MaxBufferedMiB = {BoundMiB} MiB): training pauses after epoch {Epoch} until they are stored")]
    private static partial void LogPaused(ILogger logger, string foldKey, int epochs, double miB, double boundMiB, int epoch);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Information, Message = "Fold {FoldKey}: the store took the checkpoints it held; training resumes after epoch {Epoch}")]
    private static partial void LogResumingAfterPause(ILogger logger, string foldKey, int epoch);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Warning, Message = "Fold {FoldKey}: reading its checkpoints failed (attempt {Attempt}); trying again in {Seconds} s: {Reason}")]
    private static partial void LogStoreReadRetry(ILogger logger, string foldKey, int attempt, double seconds, string reason);

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

    [LoggerMessage(EventId = 1008, Level = LogLevel.Debug, Message = "Fold {FoldKey}: epoch {Epoch} not delivered, the silo is stopping (its checkpoint is kept; the re-drive reports it)")]
    private static partial void LogUndeliverableWhileDraining(ILogger logger, string foldKey, int epoch);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Fold {FoldKey}: cannot deliver epoch {Epoch} (checkpoint store or trial out of reach: {Reason}); training stops, the sweep's re-drive restarts it")]
    private static partial void LogUndeliverable(ILogger logger, string foldKey, int epoch, string reason);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Fold {FoldKey}: its end cannot reach its trial ({Reason}); the sweep's re-drive restarts the trial")]
    private static partial void LogEndUndeliverable(ILogger logger, string foldKey, string reason);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Fold {FoldKey}: the delivery failure in full")]
    private static partial void LogUndeliverableDetail(ILogger logger, Exception exception, string foldKey);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Fold {FoldKey}: checkpoint {CheckpointKey} is damaged ({Reason}); kept as .damaged, falling back to the one before it")]
    private static partial void LogDamagedCheckpoint(ILogger logger, string foldKey, string checkpointKey, string reason);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Fold {FoldKey} epoch {Epoch}: F1 {F1:0.0000}, loss {Loss:0.0000}, {Seconds:0.00} s")]
    private static partial void LogEpoch(ILogger logger, string foldKey, int epoch, double f1, double loss, double seconds);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Fold {FoldKey} resumes from {CheckpointKey}")]
    private static partial void LogResuming(ILogger logger, string foldKey, string checkpointKey);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Fold {FoldKey}: attempt {Attempt} of {MaxAttempts} failed ({Reason}); trying again from its latest checkpoint")]
    private static partial void LogRetrying(ILogger logger, Exception exception, string foldKey, int attempt, int maxAttempts, string reason);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "Fold {FoldKey}: writing checkpoint {CheckpointKey} failed (attempt {Attempt}); trying again in {Seconds} s: {Reason}")]
    private static partial void LogCheckpointRetry(ILogger logger, string foldKey, string checkpointKey, int attempt, double seconds, string reason);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "Fold {FoldKey} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string foldKey);
}
