using System.Diagnostics;
using System.Threading.Channels;
using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using AunceSearch.Model;
using AunceSearch.Training;
using AunceSearch.Training.Data;
using AunceSearch.Training.Evaluation;
using Microsoft.Extensions.Logging;

namespace AunceSearch.Grains;

/// <summary>What a fold's leg came to: its outcome (with why, when it failed), or abandoned (its trial is out of reach).</summary>
public readonly record struct FoldLegResult(FoldOutcome Outcome, string? Error, bool Abandoned);

/// <summary>Where a leg sends its epochs, and whether its silo is stopping (a fold grain; tests substitute their own).</summary>
public interface IFoldLegHost
{
    /// <summary>The grain's key, for logs and errors.</summary>
    string Label { get; }

    /// <summary>The silo is stopping: report nothing more (the re-drive trains and reports the epoch again elsewhere).</summary>
    bool Draining { get; }

    /// <summary>Hands one epoch's report to the trial; throws when the trial is out of reach.</summary>
    Task ReportAsync(FoldEpochReport report);
}

/// <summary>
/// One leg of one fold, off the grain: the attempts (a failure of the fold's own training is tried again from its latest
/// delivered checkpoint, up to <see cref="TrialAssignment.MaxAttempts"/>), the pauses (finished checkpoints the store has
/// not taken yet reach <see cref="CheckpointStoreOptions.MaxBufferedBytes"/>), where to resume (the fold's stored epochs,
/// or a PBT seed), and the delivery of each epoch (checkpoint first, with retries, then the report). Training runs on the
/// runner's own thread; epochs come back through a channel.
/// </summary>
public sealed partial class FoldLeg(
    FoldAssignment assignment,
    int delivered,
    IFoldLegHost host,
    IFoldTrainingRunner trainer,
    ICheckpointStore store,
    CheckpointStoreOptions checkpoints,
    StorageRetry retry,
    TimeProvider time,
    string siloName,
    ILogger<FoldLeg> logger)
{
    private readonly TrialAssignment _t = assignment.Trial;
    private readonly int _fold = assignment.Fold;
    private readonly KeyValuePair<string, object?> _sweepTag = new("aunce.sweep", assignment.Trial.SweepId);

    /// <summary>The last epoch whose report reached the trial: training resumes from this epoch's checkpoint.</summary>
    public int Delivered { get; private set; } = delivered;

    private string Label => host.Label;

    /// <summary>Trains the leg to its end (or until <paramref name="cancellationToken"/>); never throws.</summary>
    public async Task<FoldLegResult> RunAsync(CancellationToken cancellationToken)
    {
        using var activity = assignment.TraceParent is { } parent
            ? AunceTelemetry.Source.StartActivity("fold.train", ActivityKind.Internal, parent)
            : AunceTelemetry.Source.StartActivity("fold.train");
        activity?.SetTag("aunce.sweep", _t.SweepId).SetTag("aunce.trial", _t.Trial).SetTag("aunce.fold", _fold);

        // Delivery failures stop the leg's training at its next step: this source is the leg's own stop.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            var attempts = _t.MaxAttempts;
            for (var attempt = 1; ; attempt++)
            {
                (TrainingOutcome Outcome, Exception? Error) result;
                do
                {
                    result = await TrainOnceAsync(activity, stop);
                }
                while (result is { Outcome: TrainingOutcome.Cancelled, Error: PausedForStore } && !stop.IsCancellationRequested);

                if (result.Outcome != TrainingOutcome.Failed || result.Error is null || stop.IsCancellationRequested || attempt >= attempts)
                {
                    return Ended(result, attempt, attempts, activity);
                }

                LogRetrying(logger, result.Error, Label, attempt, attempts, FirstLine(result.Error));
                AunceTelemetry.FoldRetries.Add(1, _sweepTag);
            }
        }
        catch (FoldAbandonedException)
        {
            return new FoldLegResult(FoldOutcome.Cancelled, null, Abandoned: true);
        }
        catch (OperationCanceledException)
        {
            return new FoldLegResult(FoldOutcome.Cancelled, null, Abandoned: false);
        }
        catch (Exception e)
        {
            var error = $"{e.GetType().Name}: {e.Message}";
            LogFailed(logger, e, Label);
            activity?.SetStatus(ActivityStatusCode.Error, error);
            return new FoldLegResult(FoldOutcome.Failed, error, Abandoned: false);
        }
    }

    private FoldLegResult Ended((TrainingOutcome Outcome, Exception? Error) result, int attempt, int attempts, Activity? activity)
    {
        var (outcome, e) = result;
        if (e is null or PausedForStore)
        {
            return new FoldLegResult(Outcome(outcome), null, Abandoned: false);
        }

        var error = Describe(e) + (attempts > 1 ? $" (failed {attempt} of {attempts} attempts)" : "");
        LogFailed(logger, e, Label);
        activity?.SetStatus(ActivityStatusCode.Error, error);
        return new FoldLegResult(Outcome(outcome), error, Abandoned: false);
    }

    /// <summary>How a failure of the fold's own training reads in the trial's errors.</summary>
    public static string Describe(Exception e) => e switch
    {
        TrainingDivergedException => $"diverged: {e.Message}",
        DataFormatException => $"bad data: {e.Message}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    private static FoldOutcome Outcome(TrainingOutcome o) => o switch
    {
        TrainingOutcome.Completed => FoldOutcome.Completed,
        TrainingOutcome.Cancelled => FoldOutcome.Cancelled,
        _ => FoldOutcome.Failed,
    };

    /// <summary>
    /// Trains from the latest delivered epoch until the leg ends, or until the finished checkpoints the store has not taken
    /// yet reach the bound: then training stops at its next step, what it finished is written as the store allows, and the
    /// result is a cancellation carrying <see cref="PausedForStore"/> (the caller trains on from there).
    /// </summary>
    private async Task<(TrainingOutcome Outcome, Exception? Error)> TrainOnceAsync(Activity? activity, CancellationTokenSource stop)
    {
        var resume = await FindResumeAsync(stop.Token);
        var request = new FoldTrainingRequest
        {
            Label = Label,
            Dataset = new DatasetSource(_t.Dataset, _fold),
            Model = _t.Model,
            Augment = _t.Training.Augment ?? new AugmentOptions(),   // definitions stored before augmentation was a setting have none
            Hyperparameters = _t.Hyperparameters,
            Epochs = _t.Epochs,
            Probe = new ProbeOptions { Steps = _t.Training.ProbeSteps, LearningRate = _t.Training.ProbeLr },
            Seed = (_t.Seed * 1000) + _fold,
            Device = _t.Training.Device,
            DeviceIndex = assignment.Device,
            ResumeFrom = resume,
        };

        var epochs = Channel.CreateUnbounded<(EpochResult Result, byte[] Checkpoint)>(new UnboundedChannelOptions { SingleReader = true });
        using var pause = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var held = new HeldCheckpoints(checkpoints.MaxBufferedBytes);
        var training = trainer.RunAsync(request, (r, c) =>
            {
                // On the training thread: the epoch waits for the store, and training pauses if too much waits.
                if (held.Add(c.Length))
                {
                    pause.Cancel();
                    AunceTelemetry.FoldPauses.Add(1, _sweepTag);
                    LogPaused(logger, Label, held.Epochs, held.Bytes / 1048576.0, checkpoints.MaxBufferedMiB, r.Epoch);
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
                if (host.Draining)
                {
                    // The silo is stopping: report nothing more. The deactivation waits for this run, and a report could wait
                    // on a trial that is itself waiting to start this fold again (it restarts after its last stored epoch, so
                    // this epoch is trained again there).
                    LogUndeliverableWhileDraining(logger, Label, result.Epoch);
                    continue;
                }

                await DeliverAsync(result, checkpoint, activity);
                Delivered = result.Epoch;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The checkpoint store or the trial is out of reach (e.g. the coordinator silo died): stop training at the
                // next step instead of running on unseen; the restarted trial resumes from the checkpoints.
                if (host.Draining)
                {
                    LogUndeliverableWhileDraining(logger, Label, result.Epoch);   // the silo is stopping: expected
                }
                else
                {
                    LogUndeliverable(logger, Label, result.Epoch, FirstLine(e));
                    LogUndeliverableDetail(logger, e, Label);
                }

                await stop.CancelAsync();
                await training;
                while (epochs.Reader.TryRead(out var unsent))
                {
                    held.Remove(unsent.Checkpoint.Length);   // dropped with the leg: no longer held
                }

                throw new FoldAbandonedException(e);
            }
            finally
            {
                held.Remove(checkpoint.Length);
            }
        }

        var ended = await training;
        if (held.Paused && ended.Outcome == TrainingOutcome.Cancelled && !stop.IsCancellationRequested)
        {
            LogResumingAfterPause(logger, Label, Delivered);
            return (TrainingOutcome.Cancelled, new PausedForStore());
        }

        return ended;
    }

    /// <summary>
    /// The checkpoint to resume from: the fold's latest stored epoch up to <see cref="Delivered"/>, or, for a PBT exploit,
    /// another trial's checkpoint of this fold (unless this leg already wrote checkpoints of its own past it, after a
    /// failure). The store may be out (a restart, a network cut) as the fold starts: an infrastructure failure, not the
    /// trial's, so reading is tried again with backoff (up to two minutes), as writes are.
    /// </summary>
    private async Task<byte[]?> FindResumeAsync(CancellationToken cancellationToken)
    {
        var prefix = CheckpointKeys.FoldPrefix(_t.SweepId, _t.Trial, _fold);
        var point = await retry.RunAsync(async () => await ResumePoint.FindAsync(store, await store.ListAsync(prefix, cancellationToken), Delivered, cancellationToken),
            (attempt, delay, e) =>
            {
                AunceTelemetry.CheckpointFailures.Add(1, _sweepTag);
                LogStoreReadRetry(logger, Label, attempt, delay.TotalSeconds, FirstLine(e));
            }, cancellationToken: cancellationToken);
        foreach (var (key, reason) in point.Damaged)
        {
            LogDamagedCheckpoint(logger, Label, key, reason);
        }

        var (latest, resume) = (point.Key, point.Data);
        if (_t.SeedCheckpointKeys is { } seeds && (latest is null || CheckpointKeys.EpochOf(latest) <= _t.FromEpoch))
        {
            var seed = seeds.FirstOrDefault(k => CheckpointKeys.FoldOf(k) == _fold)
                ?? throw new InvalidOperationException($"{Label}: no seed checkpoint for fold {_fold} among {string.Join(", ", seeds)}");
            latest = seed;
            resume = await retry.RunAsync(() => store.LoadAsync(seed, cancellationToken),
                         (attempt, delay, e) => LogStoreReadRetry(logger, Label, attempt, delay.TotalSeconds, FirstLine(e)), cancellationToken: cancellationToken)
                ?? throw new InvalidOperationException($"{Label}: PBT seed checkpoint {seed} is missing from the checkpoint store");
            _ = Checkpoint.Inspect(resume, seed);   // a damaged seed fails the leg with its name and reason
        }

        if (latest is not null)
        {
            LogResuming(logger, Label, latest);
        }

        return resume;
    }

    /// <summary>Stores an epoch's checkpoint (the store may be out for a while: tried again with backoff), then reports the epoch.</summary>
    private async Task DeliverAsync(EpochResult result, byte[] checkpoint, Activity? activity)
    {
        var key = CheckpointKeys.ForEpoch(_t.SweepId, _t.Trial, _fold, result.Epoch);
        var writing = time.GetTimestamp();
        string location;
        try
        {
            AunceTelemetry.CheckpointFailures.Add(0, _sweepTag);   // the series exists (at 0) before any failure
            location = await retry.RunAsync(() => store.SaveAsync(key, checkpoint, CancellationToken.None), (attempt, delay, e) =>
            {
                AunceTelemetry.CheckpointFailures.Add(1, _sweepTag);
                LogCheckpointRetry(logger, Label, key, attempt, delay.TotalSeconds, FirstLine(e));
            });
        }
        catch
        {
            AunceTelemetry.CheckpointFailures.Add(1, _sweepTag);
            throw;
        }

        AunceTelemetry.CheckpointSeconds.Record(time.GetElapsedTime(writing).TotalSeconds, _sweepTag);
        AunceTelemetry.CheckpointBytes.Add(checkpoint.Length, _sweepTag);
        var deviceTag = new KeyValuePair<string, object?>("aunce.device", _t.Training.Device.ToString().ToLowerInvariant());
        AunceTelemetry.FoldEpochs.Add(1, _sweepTag, deviceTag);
        AunceTelemetry.FoldEpochSeconds.Record(result.Seconds, _sweepTag, deviceTag);
        AunceTelemetry.FoldMetric.Record(result.Metrics.MeanF1, _sweepTag);
        using (var epochSpan = AunceTelemetry.Source.StartActivity("fold.epoch", ActivityKind.Internal, activity?.Context ?? default,
                   startTime: time.GetUtcNow() - TimeSpan.FromSeconds(result.Seconds)))
        {
            epochSpan?.SetTag("aunce.sweep", _t.SweepId).SetTag("aunce.trial", _t.Trial).SetTag("aunce.fold", _fold).SetTag("aunce.epoch", result.Epoch)
                .SetTag("aunce.f1", result.Metrics.MeanF1).SetTag("aunce.accuracy", result.Metrics.MeanAccuracy).SetTag("aunce.loss", result.TrainLoss)
                .SetTag("aunce.checkpoint.bytes", checkpoint.Length);
        }

        LogEpoch(logger, Label, result.Epoch, result.Metrics.MeanF1, result.TrainLoss, result.Seconds);
        await host.ReportAsync(new FoldEpochReport(_t.Trial, _fold, result.Epoch, result.Metrics.MeanF1,
            result.Metrics.MeanAccuracy, result.TrainLoss, result.Metrics.F1, result.Seconds, key, location, siloName)
        {
            AccuracyPerAu = result.Metrics.Accuracy,
            AllActiveF1PerAu = result.Baseline?.AllActiveF1 ?? [],
            MajorityAccuracyPerAu = result.Baseline?.MajorityAccuracy ?? [],
            AuNames = [.. result.Metrics.AuNames],
            Skipped = result.Skipped,
            CheckpointSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(checkpoint)),
        });
    }

    internal static string FirstLine(Exception e) => e.Message.Split('\n')[0];

    /// <summary>Training stopped to let the store catch up (not the leg's end).</summary>
    private sealed class PausedForStore : Exception;

    /// <summary>An epoch could not be delivered: the leg ends without a report of its end.</summary>
    private sealed class FoldAbandonedException(Exception inner) : Exception(inner.Message, inner);

    [LoggerMessage(EventId = 1015, Level = LogLevel.Warning, Message = "Fold {FoldKey}: {Epochs} finished epoch(s), {MiB:0.0} MiB of checkpoints, wait for the checkpoint store (bound Aunce:Checkpoints:MaxBufferedMiB = {BoundMiB} MiB): training pauses after epoch {Epoch} until they are stored")]
    private static partial void LogPaused(ILogger logger, string foldKey, int epochs, double miB, double boundMiB, int epoch);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Information, Message = "Fold {FoldKey}: the store took the checkpoints it held; training resumes after epoch {Epoch}")]
    private static partial void LogResumingAfterPause(ILogger logger, string foldKey, int epoch);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Warning, Message = "Fold {FoldKey}: reading its checkpoints failed (attempt {Attempt}); trying again in {Seconds} s: {Reason}")]
    private static partial void LogStoreReadRetry(ILogger logger, string foldKey, int attempt, double seconds, string reason);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Debug, Message = "Fold {FoldKey}: epoch {Epoch} not delivered, the silo is stopping (its checkpoint is kept; the re-drive reports it)")]
    private static partial void LogUndeliverableWhileDraining(ILogger logger, string foldKey, int epoch);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Fold {FoldKey}: cannot deliver epoch {Epoch} (checkpoint store or trial out of reach: {Reason}); training stops, the sweep's re-drive restarts it")]
    private static partial void LogUndeliverable(ILogger logger, string foldKey, int epoch, string reason);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Fold {FoldKey}: the delivery failure in full")]
    internal static partial void LogUndeliverableDetail(ILogger logger, Exception exception, string foldKey);

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
