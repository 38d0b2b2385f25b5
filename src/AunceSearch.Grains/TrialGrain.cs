using System.Diagnostics;
using AunceSearch.Contracts;
using AunceSearch.Grains.Placement;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace AunceSearch.Grains;

/// <summary>
/// One configuration across its folds. Folds train in parallel; when every fold still running has finished epoch e,
/// the trial reports the fold mean at e to the sweep, which answers continue, stop (pruned) or complete.
/// Reentrant: fold reports interleave at awaits; all state changes happen before the awaits that follow them.
/// </summary>
[RequireSiloMetadata(TrainerSilo.CoordinatorKey, "true")]
[Reentrant]
public sealed partial class TrialGrain(ILogger<TrialGrain> logger) : Grain, ITrialGrain
{
    private readonly Dictionary<int, SortedDictionary<int, FoldEpochReport>> _reports = [];
    private readonly Dictionary<int, FoldOutcome> _finished = [];
    private readonly List<string> _errors = [];
    private TrialAssignment? _assignment;
    private int _reportedEpoch;
    private TrialState _state = TrialState.Pending;
    private bool _notified;

    /// <summary>Counts the legs this activation has started.</summary>
    private int _leg;

    /// <summary>The sweep this trial reports to (one reference per activation: a trial never changes sweeps).</summary>
    private ISweepGrain Sweep => _sweep ??= GrainFactory.GetGrain<ISweepGrain>(_assignment!.SweepId);

    private ISweepGrain? _sweep;

    /// <summary>The current leg's span ("trial.leg", the root of the leg's trace): fold spans and the sweep's decisions join it.</summary>
    private Activity? _span;

    /// <summary>A promotion's next leg that arrived before this leg's folds had all ended; it starts when they have.</summary>
    private TrialAssignment? _pending;

    public async Task StartAsync(TrialAssignment assignment)
    {
        if (_assignment is not null && _state == TrialState.Running && !_notified)
        {
            if (assignment.FromEpoch > _assignment.FromEpoch)
            {
                _pending = assignment;   // promoted while the paused leg's folds are still winding down
            }

            return;
        }

        await StartLegAsync(assignment);
    }

    private async Task StartLegAsync(TrialAssignment assignment)
    {
        // A new leg (a promotion resumes a paused trial): folds continue from their checkpoints at FromEpoch.
        _assignment = assignment;
        _leg++;
        _state = TrialState.Running;
        _reportedEpoch = assignment.FromEpoch;
        _finished.Clear();
        _errors.Clear();
        _reports.Clear();
        _notified = false;
        DelayDeactivation(TimeSpan.FromDays(7));
        foreach (var fold in assignment.Folds)
        {
            _reports[fold] = [];
        }

        // After a crash: the fold epochs the sweep already holds (its folds resume after them and do not report them again).
        foreach (var r in assignment.Delivered ?? [])
        {
            if (_reports.TryGetValue(r.Fold, out var byEpoch) && r.Epoch > assignment.FromEpoch)
            {
                byEpoch[r.Epoch] = r;
            }
        }

        _span?.Stop();   // the previous leg's, if its end was not seen (a promotion straight into this leg)
        _span = LegSpan(assignment);
        // The folds wait for training slots in the cluster's queue; the slot director starts each where a slot is free.
        await InSpan(() => Director.EnqueueAsync([.. assignment.Folds.Select(f => new FoldAssignment(assignment, f, TraceParent: _span?.Id))]));
        if (assignment.Delivered is { Length: > 0 })
        {
            // Every fold may have delivered an epoch before the crash: report it, in a turn of its own — the sweep calls
            // StartAsync from its activation and cannot take a report until that returns.
            _ = CatchUpAsync();
        }
    }

    private async Task CatchUpAsync()
    {
        await Task.Yield();
        try
        {
            await ReportCompleteEpochsAsync();
        }
        catch (Exception e)
        {
            LogCatchUpFailed(logger, e, this.GetPrimaryKeyString());   // the next fold report tries again
        }
    }

    public async Task OnFoldEpochAsync(FoldEpochReport report)
    {
        if (_assignment is null)
        {
            await RestoreLegAsync(null);   // a fresh activation: take the leg from the sweep rather than drop the report
        }

        if (_assignment is null || !_reports.TryGetValue(report.Fold, out var byEpoch))
        {
            return;
        }

        byEpoch[report.Epoch] = report;
        await InSpan(() => Sweep.OnFoldEpochAsync(report));
        if (_assignment.PartialFolds && _state == TrialState.Running && report.Epoch > _reportedEpoch)
        {
            // Pruning on partial folds: the folds that have finished this epoch so far (all of them is the normal report below).
            var done = _assignment.Folds.Where(f => _reports[f].ContainsKey(report.Epoch)).Select(f => _reports[f][report.Epoch]).ToArray();
            if (done.Length < _assignment.Folds.Length &&
                await Sweep.ReportPartialAsync(FoldMean(report.Epoch, done), _assignment.Folds.Length) == TrialDirective.Stop && _state == TrialState.Running)
            {
                _state = TrialState.Pruned;
                LogPruned(logger, this.GetPrimaryKeyString(), report.Epoch);
                await StopFoldsAsync();
                return;
            }
        }

        await ReportCompleteEpochsAsync();
    }

    /// <summary>Reports to the sweep each next epoch that every fold still running has finished.</summary>
    private async Task ReportCompleteEpochsAsync()
    {
        while (_state == TrialState.Running && _assignment is not null)
        {
            var next = _reportedEpoch + 1;
            var live = _assignment.Folds.Where(f => !_finished.ContainsKey(f) || _reports[f].ContainsKey(next)).ToList();
            if (live.Count == 0 || live.Any(f => !_reports[f].ContainsKey(next)))
            {
                return;
            }

            _reportedEpoch = next;
            var report = FoldMean(next, [.. live.Select(f => _reports[f][next])]);
            var directive = await InSpan(() => Sweep.ReportAsync(report));
            _span?.AddEvent(new ActivityEvent("aunce.directive", tags: new ActivityTagsCollection
            {
                ["aunce.epoch"] = next, ["aunce.value"] = report.Value, ["aunce.directive"] = directive.ToString().ToLowerInvariant(),
            }));
            if (directive == TrialDirective.Stop && _state == TrialState.Running)
            {
                _state = TrialState.Pruned;
                LogPruned(logger, this.GetPrimaryKeyString(), next);
                await StopFoldsAsync();
            }
        }
    }

    /// <summary>The trial's report at <paramref name="epoch"/>: means over <paramref name="folds"/>, valued by the sweep's metric.</summary>
    private TrialEpochReport FoldMean(int epoch, FoldEpochReport[] folds)
    {
        var meanF1 = folds.Average(r => r.MeanF1);
        var meanAcc = folds.Average(r => r.MeanAccuracy);
        return new TrialEpochReport(_assignment!.Trial, epoch, _assignment.Metric == SweepMetric.Accuracy ? meanAcc : meanF1, meanF1, meanAcc, folds);
    }

    public async Task OnFoldFinishedAsync(int fold, FoldOutcome outcome, string? error)
    {
        if (_assignment is null)
        {
            await RestoreLegAsync(null);
        }

        if (_assignment is null)
        {
            return;
        }

        _finished[fold] = outcome;
        if (error is not null)
        {
            _errors.Add($"fold {fold}: {error}");
            if (_state == TrialState.Running)
            {
                _state = TrialState.Failed;
                await StopFoldsAsync();
            }
        }

        if (_finished.Count < _assignment.Folds.Length || _notified)
        {
            return;
        }

        if (_pending is { } next)
        {
            _pending = null;
            if (_errors.Count == 0 && _state == TrialState.Running && _finished.Values.All(o => o == FoldOutcome.Completed))
            {
                // The sweep already promoted this trial: its paused leg ends into the next one, which the sweep awaits.
                await StartLegAsync(next);
                return;
            }
        }

        _notified = true;
        if (_state == TrialState.Running)
        {
            _state = _finished.Values.All(o => o == FoldOutcome.Completed) ? TrialState.Completed : TrialState.Failed;
        }

        AunceTelemetry.Trials.Add(1, new KeyValuePair<string, object?>("state", _state.ToString()), new KeyValuePair<string, object?>("aunce.sweep", _assignment.SweepId));
        _span?.SetTag("aunce.state", _state.ToString().ToLowerInvariant());
        if (_state == TrialState.Failed)
        {
            _span?.SetStatus(ActivityStatusCode.Error, string.Join("; ", _errors));
        }

        _span?.Stop();
        _span = null;
        var leg = _leg;
        await Sweep.OnTrialFinishedAsync(_assignment.Trial, _state, _errors.Count > 0 ? string.Join("; ", _errors) : null, _assignment.Epochs);
        if (_state != TrialState.Running && _leg == leg)
        {
            // Unless the sweep promoted this trial meanwhile. A later leg may have started and ended while this call was
            // out: its own end decides, since deactivating under its in-flight call would deadlock a promotion it causes.
            DeactivateOnIdle();
        }
    }

    public async Task EnsureRunningAsync(TrialAssignment assignment)
    {
        if (_assignment is null)
        {
            await RestoreLegAsync(assignment);   // the activation that ran this leg was lost: start it again from what is stored
            return;
        }

        if (assignment.Epochs != _assignment.Epochs)
        {
            await StartAsync(assignment);   // a leg the sweep started that this activation never heard of (the sweep died in between)
            return;
        }

        if (_state != TrialState.Running || _notified)
        {
            return;   // ending: its report is on the way
        }

        await Director.EnsureAsync([.. _assignment.Folds.Where(f => !_finished.ContainsKey(f))
            .Select(f => new FoldAssignment(_assignment with { Delivered = [.. _reports[f].Values] }, f, TraceParent: _span?.Id))]);
    }

    /// <summary>The one restore of this activation's leg (concurrent callers share it; a failed one may be tried again).</summary>
    private Task? _restoring;

    /// <summary>
    /// A fresh activation of a trial whose old activation was lost (with its silo, or because a dead silo held its directory
    /// entry) while its folds trained on: it takes its leg from <paramref name="known"/> or the sweep, with the fold epochs
    /// the sweep stored, before it handles anything else. A fold report that reached it first would otherwise be dropped,
    /// and the trial would wait forever for that epoch.
    /// </summary>
    private async Task RestoreLegAsync(TrialAssignment? known)
    {
        _restoring ??= RestoreCoreAsync(known);
        try
        {
            await _restoring;
        }
        catch
        {
            _restoring = null;
            throw;
        }

        if (_assignment is null)
        {
            _restoring = null;   // the sweep had no running leg for it (a stale report): a later one is asked again
        }

        async Task RestoreCoreAsync(TrialAssignment? assignment)
        {
            var key = this.GetPrimaryKeyString();
            var cut = key.LastIndexOf("/t", StringComparison.Ordinal);
            assignment ??= await GrainFactory.GetGrain<ISweepGrain>(key[..cut])
                .GetRunningLegAsync(int.Parse(key[(cut + 2)..], System.Globalization.CultureInfo.InvariantCulture));
            if (assignment is null || _assignment is not null)
            {
                return;   // not running any more, or a start won the race
            }

            LogRestarted(logger, key);
            await StartLegAsync(assignment);
        }
    }

    public async Task StopAsync(string reason)
    {
        if (_assignment is null || _state != TrialState.Running)
        {
            return;
        }

        _state = TrialState.Pruned;
        LogStopped(logger, this.GetPrimaryKeyString(), reason);
        await StopFoldsAsync();
    }

    /// <summary>A root span per trial leg (a trace of its own), tagged with the sweep, trial, leg, epochs and configuration.</summary>
    private Activity? LegSpan(TrialAssignment assignment)
    {
        var previous = Activity.Current;
        Activity.Current = null;   // not a child of the sweep's call that started it: one trace per leg
        var span = AunceTelemetry.Source.StartActivity("trial.leg");
        Activity.Current = previous;
        if (span is not null)
        {
            span.SetTag("aunce.sweep", assignment.SweepId).SetTag("aunce.trial", assignment.Trial).SetTag("aunce.leg", _leg)
                .SetTag("aunce.from_epoch", assignment.FromEpoch).SetTag("aunce.target_epoch", assignment.Epochs).SetTag("aunce.folds", assignment.Folds.Length);
            foreach (var (name, value) in assignment.Hyperparameters)
            {
                span.SetTag($"aunce.hp.{name}", value);
            }
        }

        return span;
    }

    /// <summary>Runs a call with the leg's span current, so the callee's spans (folds, the sweep's decisions) join its trace.</summary>
    private async Task<T> InSpan<T>(Func<Task<T>> call)
    {
        var previous = Activity.Current;
        Activity.Current = _span ?? previous;
        try
        {
            return await call();
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    private Task InSpan(Func<Task> call) => InSpan(async () =>
    {
        await call();
        return true;
    });

    /// <summary>
    /// Stops the folds that have not finished. Those still waiting for a slot leave the queue and end here, as cancelled
    /// (they never started, so no end of theirs will come); the others stop within a step and report their end.
    /// </summary>
    private async Task StopFoldsAsync()
    {
        var a = _assignment!;
        var unstarted = await Director.CancelAsync(a.SweepId, a.Trial, [.. a.Folds.Where(f => !_finished.ContainsKey(f))]);
        foreach (var fold in unstarted)
        {
            if (ReferenceEquals(a, _assignment) && !_finished.ContainsKey(fold))
            {
                await OnFoldFinishedAsync(fold, FoldOutcome.Cancelled, null);
            }
        }
    }

    private ISlotDirectorGrain Director => GrainFactory.GetGrain<ISlotDirectorGrain>(GrainKeys.SlotDirector);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Trial {TrialKey}: its running leg had no activation (lost with its silo); started again from the stored fold epochs")]
    private static partial void LogRestarted(ILogger logger, string trialKey);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Trial {TrialKey}: reporting the epochs its folds delivered before a restart failed")]
    private static partial void LogCatchUpFailed(ILogger logger, Exception exception, string trialKey);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Trial {TrialKey} pruned at epoch {Epoch}")]
    private static partial void LogPruned(ILogger logger, string trialKey, int epoch);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Trial {TrialKey} stopped: {Reason}")]
    private static partial void LogStopped(ILogger logger, string trialKey, string reason);
}
