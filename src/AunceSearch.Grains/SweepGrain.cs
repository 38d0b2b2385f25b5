using System.Diagnostics;
using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using AunceSearch.Coordination;
using AunceSearch.Grains.Placement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Storage;

namespace AunceSearch.Grains;

/// <summary>
/// The sweep coordinator's host. The logic is <see cref="SweepCoordinator"/> (pure); this grain journals each input the
/// coordinator accepts (<see cref="SweepLog"/>: append-only, with snapshots), keeps one write in flight (inputs that
/// arrive meanwhile share the next one), shows only events whose inputs are stored, and then carries out the
/// coordinator's commands (start or stop trials). On activation it restores the coordinator from the journal and
/// restarts the trials that were running; their folds resume after their last stored epochs.
/// </summary>
[RequireSiloMetadata(TrainerSilo.CoordinatorKey, "true")]
[Reentrant]
public sealed partial class SweepGrain(
    [FromKeyedServices(GrainStorageNames.Sweeps)] IGrainStorage storage,
    StorageRetry retry,
    Microsoft.Extensions.Options.IOptions<SweepActivationOptions> activation,
    ILogger<SweepGrain> logger,
    ICheckpointStore? checkpointStore = null)
    : Grain, ISweepGrain, IRemindable
{
    /// <summary>The reminder that re-drives a running sweep every minute: it also brings the sweep back after its silo died.</summary>
    public const string RedriveReminder = "redrive";

    private bool _reminderRegistered;

    private SweepCoordinator _coordinator = null!;
    private SweepLog _log = null!;

    /// <summary>Journal entries applied but not yet written, each with the event sequence number after it.</summary>
    private readonly List<(string Entry, long Sequence)> _pending = [];
    private long _applied;
    private long _stored;
    private Task? _writing;

    /// <summary>The last event whose input is in storage: only events up to it are visible (to the journal, to status).</summary>
    private long _durableSequence;

    /// <summary>Completed (and replaced) each time more inputs are stored: what event watchers wait on.</summary>
    private TaskCompletionSource _eventsStored = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _log = new SweepLog(storage, Id, (attempt, delay, e) =>
        {
            LogJournalRetry(logger, Id, attempt, delay.TotalSeconds, e.Message.Split('\n')[0]);
            AunceTelemetry.JournalRetries.Add(1, new KeyValuePair<string, object?>("aunce.sweep", Id));
        }, retry: retry);
        try
        {
            _coordinator = await _log.RestoreAsync((entry, inputs) => LogReplayMismatch(logger, Id, entry.GetType().Name, inputs));
        }
        catch (Exception e) when (e is InconsistentStateException or InvalidDataException)
        {
            // A damaged record (a disk fault, an edit): no retry brings it back, and the other sweeps are not concerned.
            LogUnreadable(logger, Id, e.Message);
            throw new InvalidDataException(Unreadable(Id, e.Message), e);
        }

        _applied = _stored = _log.Count;
        _durableSequence = _coordinator.Sequence;
        PublishGauges(force: true);
        await RegisterAsync();
        if (_coordinator.State == SweepState.Running && activation.Value.RestartRunningTrials)
        {
            // The running trials restart just after the activation, not within it: a trial or fold that cannot answer yet
            // (its silo just died or hangs, its directory entry is moving) must not hold the activation past Orleans'
            // activation timeout, which would fail every call waiting on this sweep.
            _restart = this.RegisterGrainTimer(RestartRunningAsync, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan) { Interleave = true });
        }
    }

    private IGrainTimer? _restart;

    private async Task RestartRunningAsync(CancellationToken cancellationToken)
    {
        _restart?.Dispose();
        _restart = null;
        LogResuming(logger, Id, _coordinator.RunningTrials().Count);

        // Ensure, not start: a trial whose activation outlived this sweep's (Orleans deactivated only the sweep, its directory
        // entry having been on a dead silo) is mid-leg, and a start would read as a promotion to its last stored epoch.
        await RedriveAsync();
        if (_coordinator.Stalled)
        {
            await HandleAsync(new SweepRecovered());   // it died between trials: start the next ones (or end the sweep)
        }
    }

    public async Task<SweepStatus> StartAsync(SweepDefinition definition)
    {
        await HandleAsync(new SweepStarted(definition));   // an invalid definition (ArgumentException) or another sweep's id changes nothing
        await RegisterAsync();
        return Status();
    }

    /// <summary>Lists the sweep in the cluster's directory (idempotent; also on every activation, in case a crash came between).</summary>
    private Task RegisterAsync() => _coordinator.Listing is { } listing
        ? GrainFactory.GetGrain<ISweepDirectoryGrain>(GrainKeys.Directory).AddAsync(listing)
        : Task.CompletedTask;

    public async Task<SweepStatus> ResumeAsync()
    {
        if (!_coordinator.Exists)
        {
            throw new KeyNotFoundException($"no sweep '{Id}' in this cluster's grain storage");
        }

        await HandleAsync(new SweepResumed());
        if (_coordinator.State == SweepState.Running)
        {
            // A sweep left running by a process that died: its trials continue now (asked for), whether or not this silo
            // restarts running sweeps on activation (EnsureRunning: a trial already running is left as it is).
            await RestartRunningAsync(CancellationToken.None);
        }

        return Status();
    }

    /// <summary>
    /// The status once every input applied so far is stored: the coordinator's state runs ahead of storage while a write is
    /// in flight (the grain is reentrant), and a status that showed, say, "cancelled" before the cancel's event was visible
    /// would let a follower stop short of that event.
    /// </summary>
    public async Task<SweepStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        await DurableAsync(cancellationToken);
        return Status();
    }

    /// <summary>Waits until every input applied so far is stored: views never run ahead of storage.</summary>
    private async Task DurableAsync(CancellationToken cancellationToken = default)
    {
        while (_stored < _applied)
        {
            // More inputs may have arrived meanwhile: until none is pending. A cancelled wait leaves the write going.
            await PersistAsync(_applied).WaitAsync(cancellationToken);
        }
    }

    public async Task<SweepOverview?> GetOverviewAsync(CancellationToken cancellationToken = default)
    {
        await DurableAsync(cancellationToken);
        return _coordinator.Overview(_durableSequence);
    }

    public async Task<TrialPage> GetTrialsAsync(TrialQuery query, CancellationToken cancellationToken = default)
    {
        await DurableAsync(cancellationToken);
        return _coordinator.Trials(query);
    }

    public async Task<TrialDetail?> GetTrialAsync(int trial, CancellationToken cancellationToken = default)
    {
        await DurableAsync(cancellationToken);
        return _coordinator.Trial(trial);
    }

    public async Task<DecisionPage> GetDecisionsAsync(int? trial, int offset, int limit, CancellationToken cancellationToken = default)
    {
        await DurableAsync(cancellationToken);
        return _coordinator.DecisionPage(trial, offset, limit);
    }

    public async Task<ParameterPoints> GetPointsAsync(int max, CancellationToken cancellationToken = default)
    {
        await DurableAsync(cancellationToken);
        return _coordinator.Points(max);
    }

    public async Task<ImportanceReport?> GetImportanceAsync(int? epoch, double quantile, bool local, CancellationToken cancellationToken = default)
    {
        await DurableAsync(cancellationToken);
        return _coordinator.Importance(epoch, quantile, local);
    }

    public Task<SweepEvent[]> GetEventsAsync(long afterSequence) => Task.FromResult(_coordinator.Events(afterSequence, _durableSequence));

    public async IAsyncEnumerable<SweepEvent[]> WatchEventsAsync(long afterSequence, TimeSpan heartbeat,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!_coordinator.Exists)
        {
            throw new KeyNotFoundException($"no sweep '{Id}' in this cluster's grain storage");
        }

        heartbeat = heartbeat > TimeSpan.Zero ? heartbeat : TimeSpan.FromSeconds(15);
        var cursor = afterSequence;
        while (true)
        {
            var stored = _stored;
            var changed = _eventsStored.Task;   // taken before reading, so a store in between wakes the wait below
            var events = _coordinator.Events(cursor, _durableSequence);
            if (events.Length > 0)
            {
                cursor = events[^1].Sequence;
                yield return events;
                continue;
            }

            if (_coordinator.State is not (SweepState.Running or SweepState.Pending) && stored >= _applied && _durableSequence <= cursor)
            {
                yield break;   // ended, and every event is out
            }

            using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var beat = Task.Delay(heartbeat, wake.Token);
            if (await Task.WhenAny(changed, beat) == beat)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return [];
            }
            else
            {
                await wake.CancelAsync();   // the heartbeat's timer goes with it
            }
        }
    }

    /// <summary>
    /// A trial's fold mean. Journaled without the fold epochs when the coordinator holds every one of them (they were each
    /// journaled as delivered, and a fold report is most of an entry's bytes): one copy of each fold epoch in the journal.
    /// </summary>
    public Task<TrialDirective> ReportAsync(TrialEpochReport report) =>
        HandleAsync(new TrialEpochReported(_coordinator.HoldsFolds(report) ? report with { Folds = [] } : report));

    public Task<TrialDirective> ReportPartialAsync(TrialEpochReport report, int totalFolds) => HandleAsync(new PartialEpochReported(report, totalFolds));

    /// <summary>Stored before this returns: a fold epoch the sweep holds is not trained again after a crash.</summary>
    public Task OnFoldEpochAsync(FoldEpochReport report) => HandleAsync(new FoldEpochDelivered(report));

    public async Task OnTrialFinishedAsync(int trial, TrialState finalState, string? error, int legEpochs)
    {
        await HandleAsync(new TrialLegEnded(trial, finalState, error, legEpochs));
        LogTrialFinished(logger, Id, trial, finalState);
    }

    public Task CancelAsync() => HandleAsync(new SweepCancelled());

    public async Task<TrialAssignment?> GetRunningLegAsync(int trial)
    {
        await DurableAsync();
        return _coordinator.RunningTrials().OfType<StartTrial>().FirstOrDefault(s => s.Assignment.Trial == trial)?.Assignment;
    }

    public async Task RedriveAsync()
    {
        // All at once: one trial whose fold cannot answer yet does not hold up the others.
        var running = _coordinator.RunningTrials();
        await Task.WhenAll(running.OfType<StartTrial>().Select(start =>
            GrainFactory.GetGrain<ITrialGrain>(GrainKeys.Trial(Id, start.Assignment.Trial)).EnsureRunningAsync(start.Assignment)));
        await KeepRemindedAsync();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == RedriveReminder)
        {
            await RedriveAsync();
        }
    }

    /// <summary>
    /// While the sweep runs: registers the re-drive reminder and lists the sweep as running in the cluster's directory (the
    /// coordinator silos' <see cref="SiloLossWatcher"/> re-drives the running sweeps when a silo dies). Once it has ended:
    /// removes both.
    /// </summary>
    private async Task KeepRemindedAsync()
    {
        var running = _coordinator.State == SweepState.Running;
        if (_coordinator.Exists)
        {
            await GrainFactory.GetGrain<ISweepDirectoryGrain>(GrainKeys.Directory).SetRunningAsync(Id, running);
        }

        if (running && !_reminderRegistered)
        {
            await this.RegisterOrUpdateReminder(RedriveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            _reminderRegistered = true;
        }
        else if (!running && _coordinator.Exists)
        {
            if (await this.GetReminder(RedriveReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            _reminderRegistered = false;
        }
    }

    /// <summary>Applies an input, journals it (when it changed anything), then carries out the coordinator's commands.</summary>
    private async Task<TrialDirective> HandleAsync(SweepInput input)
    {
        var decisions = _coordinator.Decisions.Count;
        var outcome = _coordinator.Apply(input);
        if (!outcome.Changed)
        {
            return outcome.Directive;
        }

        for (var k = decisions; k < _coordinator.Decisions.Count; k++)
        {
            var d = _coordinator.Decisions[k];
            AunceTelemetry.Decisions.Add(1, new KeyValuePair<string, object?>("decision", d.Kind), new KeyValuePair<string, object?>("aunce.sweep", Id));

            // In the reporting trial's trace (its call carries the leg's span): the decision with its evidence.
            Activity.Current?.AddEvent(new ActivityEvent("aunce.decision", tags: new ActivityTagsCollection
            {
                ["aunce.trial"] = d.Trial, ["aunce.epoch"] = d.Epoch, ["aunce.decision"] = d.Kind, ["aunce.value"] = d.Value,
                ["aunce.rung"] = d.Rung, ["aunce.cutoff"] = d.Cutoff, ["aunce.rank"] = d.Rank, ["aunce.reason"] = d.Reason,
            }));
        }

        _pending.Add((SweepJournalCodec.Encode(input), _coordinator.Sequence));
        await PersistAsync(++_applied);
        await DispatchAsync(outcome.Commands);
        if (input is SweepStarted or SweepResumed || (_reminderRegistered && _coordinator.State != SweepState.Running))
        {
            await KeepRemindedAsync();
        }

        return outcome.Directive;
    }

    /// <summary>
    /// Returns once the first <paramref name="upTo"/> entries are stored, with at most one write in flight: the grain is
    /// reentrant, and two overlapping writes of one segment would race on its ETag. A failed write deactivates the grain
    /// (its coordinator is ahead of storage); the next call restores it from what was stored.
    /// </summary>
    private async Task PersistAsync(long upTo)
    {
        while (_stored < upTo)
        {
            if (_writing is { IsCompleted: false } inFlight)
            {
                await inFlight.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Current);
                continue;   // it may not hold our entry: check again
            }

            if (_pending.Count == 0)
            {
                // Our entry was in a write that failed: this activation is ending (it is ahead of storage).
                throw new InvalidOperationException($"sweep {Id}: its journal write failed; retry, the sweep restores from storage");
            }

            var batch = _pending.ToList();
            _pending.Clear();

            // The state after exactly these entries, captured now (a copy of references, milliseconds at 100,000 trials):
            // it is encoded and written after them, off this turn, while later reports go on being applied and journaled.
            var snapshot = _snapshotting is null or { IsCompleted: true } && _log.SnapshotDue ? _coordinator.CaptureState() : null;
            var write = WriteAsync(batch, snapshot, _stored + batch.Count);
            _writing = write;
            try
            {
                await write;
            }
            catch (Exception e)
            {
                LogWriteFailed(logger, e, Id);
                DeactivateOnIdle();
                throw;
            }
        }
    }

    /// <summary>The snapshot being encoded and written, if any: one at a time, and never waited on by a report.</summary>
    private Task? _snapshotting;

    /// <summary>Writes a batch (and starts a snapshot after it); marks it stored before the task completes, so every waiter sees it.</summary>
    private async Task WriteAsync(List<(string Entry, long Sequence)> batch, CoordinatorState? snapshot, long through)
    {
        await _log.AppendAsync([.. batch.Select(b => b.Entry)]);
        if (snapshot is not null)
        {
            // Only after the entries it covers are stored (a snapshot never runs ahead of the journal).
            _snapshotting = SnapshotAsync(snapshot, through, _log.BytesSinceSnapshot);
        }

        _stored = through;
        _durableSequence = Math.Max(_durableSequence, batch[^1].Sequence);
        var stored = _eventsStored;
        _eventsStored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stored.TrySetResult();
        PublishGauges(force: _coordinator.State != SweepState.Running);
    }

    /// <summary>
    /// Encodes <paramref name="state"/> on the thread pool, then writes it from this grain's context (its chunks interleave
    /// with journal appends: other records). A failure costs only replay time: the journal holds every entry, and the
    /// previous snapshot stays in force until the new one's record is written; the next snapshot is tried later.
    /// </summary>
    private async Task SnapshotAsync(CoordinatorState state, long through, long covering)
    {
        try
        {
            var data = await Task.Run(() => CoordinatorSnapshot.Encode(state));
            await _log.WriteSnapshotAsync(data, through, covering);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogSnapshotFailed(logger, e, Id, through);
            if (e is InconsistentStateException)
            {
                DeactivateOnIdle();   // another activation wrote: this one is stale
            }
        }
    }

    /// <summary>Tick (ms) of the last gauge publication: at most one a second while the sweep runs (an overview is O(trials)).</summary>
    private long _gaugesAt = long.MinValue;

    private void PublishGauges(bool force)
    {
        var now = Environment.TickCount64;
        if ((!force && now - _gaugesAt < 1000) || _coordinator.Overview(_durableSequence) is not { } o)
        {
            return;
        }

        _gaugesAt = now;
        AunceTelemetry.PublishSweep(Id, new AunceTelemetry.SweepGauge(
            o.TrialsByState.ToDictionary(p => p.Key.ToString().ToLowerInvariant(), p => p.Value), o.BestValue, o.Metric));
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        AunceTelemetry.ForgetSweep(Id);
        if (_snapshotting is { IsCompleted: false } snapshotting)
        {
            // A snapshot cut short is harmless (the previous one stays in force), but one finished saves the next activation a replay.
            await snapshotting.WaitAsync(cancellationToken).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Current);
        }
    }

    private async Task DispatchAsync(IReadOnlyList<CoordinatorCommand> commands)
    {
        foreach (var command in commands)
        {
            switch (command)
            {
                case StartTrial start:
                    await GrainFactory.GetGrain<ITrialGrain>(GrainKeys.Trial(Id, start.Assignment.Trial)).StartAsync(start.Assignment);
                    break;
                case PruneCheckpoints prune:
                    // Off the grain's turn: deleting is slow on a blob store, and nothing waits for it (it is idempotent; a
                    // later prune of the same trial deletes what a failed one left).
                    if (checkpointStore is { } store)
                    {
                        var (sweepId, log) = (Id, logger);
                        _ = Task.Run(() => PruneAsync(store, sweepId, prune, log));
                    }

                    break;
                case StopTrial stop:
                    // Not awaited: the trial may be waiting on this sweep (its report) while its folds stop.
                    _ = GrainFactory.GetGrain<ITrialGrain>(GrainKeys.Trial(Id, stop.Trial)).StopAsync(stop.Reason)
                        .ContinueWith(t => LogStopFailed(logger, t.Exception!, Id, stop.Trial), CancellationToken.None,
                            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    break;
            }
        }
    }

    private SweepStatus Status() => _coordinator.Status(_durableSequence);

    /// <summary>Deletes a trial's checkpoints (every fold) of epochs before the prune's bound; keys with no epoch (damaged copies) too.</summary>
    private static async Task PruneAsync(ICheckpointStore store, string sweepId, PruneCheckpoints prune, ILogger log)
    {
        try
        {
            var deleted = 0;
            foreach (var key in await store.ListAsync(CheckpointKeys.TrialPrefix(sweepId, prune.Trial)))
            {
                if (CheckpointKeys.EpochOf(key) is not { } epoch || epoch < prune.KeepFromEpoch || epoch > prune.KeepThroughEpoch)
                {
                    await store.DeleteAsync(key);
                    deleted++;
                }
            }

            AunceTelemetry.CheckpointsDeleted.Add(deleted, new KeyValuePair<string, object?>("aunce.sweep", sweepId));
        }
        catch (Exception e)
        {
            LogPruneFailed(log, e, sweepId, prune.Trial);
        }
    }

    [LoggerMessage(EventId = 1207, Level = LogLevel.Warning, Message = "Sweep {SweepId}: writing its journal failed (attempt {Attempt}); trying again in {Seconds} s: {Reason}")]
    private static partial void LogJournalRetry(ILogger logger, string sweepId, int attempt, double seconds, string reason);

    [LoggerMessage(EventId = 1206, Level = LogLevel.Warning, Message = "Sweep {SweepId}: deleting trial {Trial}'s old checkpoints failed; a later prune retries")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception, string sweepId, int trial);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Sweep {SweepId} resumes with {Running} running trials")]
    private static partial void LogResuming(ILogger logger, string sweepId, int running);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Sweep {SweepId}: trial {Trial} ended {State}")]
    private static partial void LogTrialFinished(ILogger logger, string sweepId, int trial, TrialState state);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Error, Message = "Sweep {SweepId}: writing its journal failed; the activation ends and the next call restores it from storage")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string sweepId);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Warning, Message = "Sweep {SweepId}: stopping trial {Trial} failed")]
    private static partial void LogStopFailed(ILogger logger, Exception exception, string sweepId, int trial);

    /// <summary>What a sweep whose stored state cannot be read answers every call with: the record and what to do.</summary>
    public static string Unreadable(string sweepId, string reason) =>
        $"sweep '{sweepId}': its stored state cannot be read ({reason.Split('\n')[0].TrimEnd('.')}); restore that record from a backup " +
        "(the sweep cannot go on without it; other sweeps are not affected)";

    [LoggerMessage(EventId = 1209, Level = LogLevel.Error, Message = "Sweep {SweepId}: its stored state cannot be read: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string sweepId, string reason);

    [LoggerMessage(EventId = 1208, Level = LogLevel.Warning, Message = "Sweep {SweepId}: writing its snapshot after {Inputs} inputs failed; the journal holds them all, and a later snapshot is tried")]
    private static partial void LogSnapshotFailed(ILogger logger, Exception exception, string sweepId, long inputs);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Error, Message = "Sweep {SweepId}: journal entry {Entry} (#{Inputs}) changed nothing on replay; the coordinator is not deterministic")]
    private static partial void LogReplayMismatch(ILogger logger, string sweepId, string entry, long inputs);
}

/// <summary>Names of grain storage providers the silo must configure.</summary>
public static class GrainStorageNames
{
    public const string Sweeps = "aunce";
}

/// <summary>How a sweep grain behaves when it activates.</summary>
public sealed class SweepActivationOptions
{
    /// <summary>
    /// A running sweep restarts its trials on activation (a cluster's coordinator came back); off, it waits to be resumed
    /// (<c>aunce serve</c>: it shows sweeps that a killed <c>sweep run</c> left, it does not continue them unasked).
    /// </summary>
    public bool RestartRunningTrials { get; set; } = true;
}
