using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using AunceSearch.Grains.Placement;
using AunceSearch.Search;
using AunceSearch.Search.Pruners;
using AunceSearch.Search.Schedulers;
using AunceSearch.Spec;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace AunceSearch.Grains;

/// <summary>The persisted state of a sweep: enough to resume it after its silo fails.</summary>
[GenerateSerializer, Alias("aunce.sweep-grain-state")]
public sealed class SweepGrainState
{
    [Id(0)] public string? SpecYaml { get; set; }

    [Id(1)] public string SpecFile { get; set; } = "";

    [Id(2)] public string BaseDirectory { get; set; } = "";

    [Id(3)] public SweepState State { get; set; }

    [Id(4)] public int NextTrial { get; set; }

    [Id(5)] public Dictionary<int, TrialSummary> Trials { get; set; } = [];

    [Id(6)] public List<DecisionRecord> Decisions { get; set; } = [];

    [Id(7)] public string SchedulerState { get; set; } = "";

    [Id(8)] public string? Error { get; set; }

    [Id(9)] public List<SweepEvent> Events { get; set; } = [];

    [Id(10)] public long Sequence { get; set; }

    /// <summary>The best single-fold metric any trial has reported at each epoch (the partial-fold bound).</summary>
    [Id(11)] public Dictionary<int, double> BestFoldValue { get; set; } = [];
}

/// <summary>
/// The sweep coordinator. It owns the sampler and the scheduler (pure code from AunceSearch.Search), starts up to
/// max_concurrent_trials trials, decides on each fold-averaged report, and persists its state and every decision
/// with its evidence. On reactivation after a failure it restarts the trials that were running; their folds resume
/// from their latest checkpoints.
/// </summary>
[RequireSiloMetadata(TrainerSilo.CoordinatorKey, "true")]
[Reentrant]
public sealed partial class SweepGrain(
    [PersistentState("sweep", GrainStorageNames.Sweeps)] IPersistentState<SweepGrainState> state,
    ILogger<SweepGrain> logger) : Grain, ISweepGrain
{
    private const int MaxEvents = 20_000;
    private SweepSpec? _spec;
    private ITrialScheduler? _scheduler;
    private SchedulerState? _schedulerState;
    private ISampler? _sampler;

    private SweepGrainState S => state.State;

    private Task? _writing;
    private long _changes;
    private long _persisted;

    /// <summary>
    /// The last event sequence number that is in storage. Only events up to it are visible (to the journal, to status):
    /// an event the process showed and then lost in a crash would be written again with another number after the resume.
    /// </summary>
    private long _durableSequence;

    /// <summary>
    /// Persists the state with at most one write in flight. The grain is reentrant, so reports interleave at awaits; two
    /// overlapping writes of one state would race on its ETag (an InconsistentStateException and a deactivation). A caller
    /// returns once a write that started after its change has completed; changes made while a write is in flight share
    /// the next one.
    /// </summary>
    private async Task PersistAsync()
    {
        var mine = ++_changes;
        while (_persisted < mine)
        {
            if (_writing is { IsCompleted: false } inFlight)
            {
                await inFlight.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Current);
                continue;   // it may not hold our change: check again
            }

            var upTo = _changes;
            var sequence = S.Sequence;
            var write = state.WriteStateAsync();
            _writing = write;
            await write;
            _persisted = Math.Max(_persisted, upTo);
            _durableSequence = Math.Max(_durableSequence, sequence);
        }
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _durableSequence = S.Sequence;
        if (S.SpecYaml is not null && S.State == SweepState.Running)
        {
            Load();
            LogResuming(logger, this.GetPrimaryKeyString(), S.Trials.Values.Count(t => t.State == TrialState.Running));
            await RestartRunningTrialsAsync();
            if (!S.Trials.Values.Any(t => t.State == TrialState.Running))
            {
                await FillAsync();   // it died between trials: start the next ones (or end the sweep)
            }
        }
    }

    private async Task RestartRunningTrialsAsync()
    {
        foreach (var trial in S.Trials.Values.Where(t => t.State == TrialState.Running).ToList())
        {
            await GrainFactory.GetGrain<ITrialGrain>(GrainKeys.Trial(this.GetPrimaryKeyString(), trial.Trial))
                .StartAsync(Assignment(trial.Trial, trial.Hyperparameters, trial.TargetEpoch, trial.LastEpoch, trial.SeedCheckpointKeys)
                    with { Delivered = trial.PendingFolds.Length > 0 ? trial.PendingFolds : null });
        }
    }

    public async Task<SweepStatus> ResumeAsync()
    {
        if (S.SpecYaml is null)
        {
            throw new KeyNotFoundException($"no sweep '{this.GetPrimaryKeyString()}' in this cluster's grain storage");
        }

        if (S.State == SweepState.Cancelled)
        {
            S.State = SweepState.Running;
            S.Error = null;
            Load();
            AddEvent("sweep", -1, null, null, null, "running",
                $"sweep {this.GetPrimaryKeyString()} resumed: {S.Trials.Values.Count(t => t.State == TrialState.Running)} interrupted trial(s) continue from their checkpoints");
            await PersistAsync();
            await RestartRunningTrialsAsync();
        }

        if (S.State == SweepState.Running)
        {
            await FillAsync();
        }

        return Status();
    }

    public async Task<SweepStatus> StartAsync(string specYaml, string specFile, string baseDirectory)
    {
        if (S.SpecYaml is not null)
        {
            if (S.SpecYaml != specYaml)
            {
                throw new InvalidOperationException($"sweep '{this.GetPrimaryKeyString()}' already exists with a different spec");
            }

            return Status();
        }

        // Parse first: a bad spec changes nothing. (SpecException has no Orleans codec; ArgumentException does.)
        try
        {
            _ = SweepSpecLoader.Parse(specYaml, specFile, baseDirectory);
        }
        catch (SpecException e)
        {
            throw new ArgumentException(e.Message, nameof(specYaml));
        }

        S.SpecYaml = specYaml;
        S.SpecFile = specFile;
        S.BaseDirectory = baseDirectory;
        S.State = SweepState.Running;
        Load();
        S.SchedulerState = SchedulerStateJson.Serialize(_schedulerState!);
        AddEvent("sweep", -1, null, null, null, "running",
            $"sweep {this.GetPrimaryKeyString()} started: {_spec!.Search.Trials} trials x {_spec.Dataset.Folds.Length} folds x up to {_spec.Training.Epochs} epochs, scheduler {_scheduler!.Name}");
        await PersistAsync();
        await FillAsync();
        return Status();
    }

    public Task<SweepStatus> GetStatusAsync() => Task.FromResult(Status());

    public Task<SweepEvent[]> GetEventsAsync(long afterSequence) =>
        Task.FromResult(S.Events.Where(e => e.Sequence > afterSequence && e.Sequence <= _durableSequence).ToArray());

    public async Task<TrialDirective> ReportAsync(TrialEpochReport report)
    {
        if (_spec is null || !S.Trials.TryGetValue(report.Trial, out var trial))
        {
            return TrialDirective.Stop;
        }

        if (S.State != SweepState.Running || trial.State != TrialState.Running)
        {
            return TrialDirective.Stop;
        }

        var ordered = report.Folds.OrderBy(f => f.Fold).ToArray();
        S.Trials[report.Trial] = trial with
        {
            LastEpoch = report.Epoch,
            LastValue = report.Value,
            LastMeanF1 = report.MeanF1,
            LastMeanAccuracy = report.MeanAccuracy,
            LastCheckpoints = [.. ordered.Select(f => f.CheckpointLocation)],
            LastCheckpointKeys = [.. ordered.Select(f => f.CheckpointKey)],
            History = [.. trial.History, report.Value],
            LastFolds = ordered,
            PendingFolds = [.. trial.PendingFolds.Where(f => f.Epoch > report.Epoch)],
        };

        var objectives = _spec.Search.Scheduler.Objectives;
        double[]? vector = objectives.IsDefaultOrEmpty ? null : [.. objectives.Select(o => o.Name switch
        {
            "f1" => report.MeanF1,
            "accuracy" => report.MeanAccuracy,
            "seconds" => report.Folds.Average(f => f.Seconds),
            _ => report.Folds.Average(f => f.TrainLoss),
        })];
        var decision = _scheduler!.OnReport(_schedulerState!, new TrialReport(report.Trial, report.Epoch, report.Value, vector));
        var directive = decision.Kind switch
        {
            DecisionKind.Stop => TrialDirective.Stop,
            DecisionKind.Complete => TrialDirective.Complete,
            DecisionKind.Pause => TrialDirective.Pause,
            _ => TrialDirective.Continue,
        };
        if (decision.Rung is not null || decision.Kind != DecisionKind.Continue)
        {
            Record(decision);
        }

        if (directive == TrialDirective.Pause)
        {
            S.Trials[report.Trial] = S.Trials[report.Trial] with { State = TrialState.Paused };
        }

        ApplyOutbox();
        S.SchedulerState = SchedulerStateJson.Serialize(_schedulerState!);
        AddEvent("trial-epoch", report.Trial, null, report.Epoch, report.Value, directive == TrialDirective.Stop ? "pruned" : "running",
            $"trial {report.Trial} epoch {report.Epoch}: fold-mean {_spec.Search.Metric} {report.Value:0.0000}");
        if (directive == TrialDirective.Stop)
        {
            S.Trials[report.Trial] = S.Trials[report.Trial] with { State = TrialState.Pruned };
        }

        await PersistAsync();
        return directive;
    }

    public async Task<TrialDirective> ReportPartialAsync(TrialEpochReport report, int totalFolds)
    {
        if (_spec is not { Search.Scheduler.PartialFolds: true } || S.State != SweepState.Running ||
            !S.Trials.TryGetValue(report.Trial, out var trial) || trial.State != TrialState.Running || report.Folds.Length == 0)
        {
            return TrialDirective.Continue;
        }

        var known = report.Folds.Select(FoldValue).ToArray();
        var bound = S.BestFoldValue.TryGetValue(report.Epoch, out var b) ? b : (_spec.Search.Mode == Direction.Maximize ? known.Max() : known.Min());
        var decision = PartialFoldPruning.Decide(_scheduler!, _schedulerState!, report.Trial, report.Epoch, known, totalFolds, bound, _spec.Search.Mode);
        if (decision is null)
        {
            return TrialDirective.Continue;
        }

        Record(decision);
        S.Trials[report.Trial] = trial with { State = TrialState.Pruned };
        await PersistAsync();
        return TrialDirective.Stop;
    }

    private double FoldValue(FoldEpochReport f) => _spec!.Search.Metric == "accuracy" ? f.MeanAccuracy : f.MeanF1;

    /// <summary>
    /// A fold finished an epoch. Its report is stored (with the trial's pending folds) before the fold hears back, so a
    /// crash after this point never trains that fold epoch again.
    /// </summary>
    public async Task OnFoldEpochAsync(FoldEpochReport report)
    {
        if (_spec is not null)
        {
            var v = FoldValue(report);
            var better = _spec.Search.Mode == Direction.Maximize ? Math.Max : (Func<double, double, double>)Math.Min;
            S.BestFoldValue[report.Epoch] = S.BestFoldValue.TryGetValue(report.Epoch, out var old) ? better(old, v) : v;
        }

        if (S.Trials.TryGetValue(report.Trial, out var trial) && trial.State == TrialState.Running && report.Epoch > trial.LastEpoch)
        {
            S.Trials[report.Trial] = trial with
            {
                PendingFolds = [.. trial.PendingFolds.Where(f => f.Fold != report.Fold || f.Epoch != report.Epoch), report],
            };
        }

        AddEvent("fold-epoch", report.Trial, report.Fold, report.Epoch, report.MeanF1, "running",
            $"trial {report.Trial} fold {report.Fold} epoch {report.Epoch}: F1 {report.MeanF1:0.0000} acc {report.MeanAccuracy:0.0000} loss {report.TrainLoss:0.0000} ({report.Seconds:0.0} s on {report.Silo})" +
            (report.Skipped > 0 ? $"; {report.Skipped} bad data entries skipped (dataset.skip_bad)" : ""));
        await PersistAsync();
    }

    public async Task OnTrialFinishedAsync(int trial, TrialState finalState, string? error)
    {
        if (!S.Trials.TryGetValue(trial, out var summary) || summary.State is TrialState.Completed or TrialState.Failed)
        {
            return;
        }

        if (S.State == SweepState.Cancelled && error is null && finalState != TrialState.Completed)
        {
            return;   // stopped by the cancel, not finished: it stays running in the sweep's state, and a resume restarts it
        }

        // A leg that ended at a rung (paused) waits for promotion unless it failed; pruned stays pruned.
        var final = finalState == TrialState.Failed ? TrialState.Failed
            : summary.State is TrialState.Pruned or TrialState.Paused ? summary.State
            : finalState;
        S.Trials[trial] = summary with { State = final, Error = error };
        if (final != TrialState.Paused)
        {
            _scheduler?.OnTrialEnded(_schedulerState!, trial, final == TrialState.Completed ? TrialPhase.Complete : TrialPhase.Pruned);
            S.SchedulerState = SchedulerStateJson.Serialize(_schedulerState!);
            AddEvent("trial", trial, null, summary.LastEpoch, summary.LastValue, final.ToString().ToLowerInvariant(),
                error is null ? $"trial {trial} {final.ToString().ToLowerInvariant()}" : $"trial {trial} {final.ToString().ToLowerInvariant()}: {error}");
        }

        LogTrialFinished(logger, this.GetPrimaryKeyString(), trial, final);
        await PersistAsync();
        await FillAsync();
    }

    public async Task CancelAsync()
    {
        if (S.State != SweepState.Running)
        {
            return;
        }

        S.State = SweepState.Cancelled;
        AddEvent("sweep", -1, null, null, null, "cancelled", "sweep cancelled");
        await PersistAsync();
        await Task.WhenAll(S.Trials.Values.Where(t => t.State == TrialState.Running)
            .Select(t => GrainFactory.GetGrain<ITrialGrain>(GrainKeys.Trial(this.GetPrimaryKeyString(), t.Trial)).StopAsync("sweep cancelled")));
    }

    /// <summary>
    /// Asks the scheduler for jobs (promote a paused trial, or start a new one) while fewer than max_concurrent_trials
    /// run; ends the sweep when nothing runs and the scheduler has nothing left.
    /// </summary>
    private async Task FillAsync()
    {
        var spec = _spec!;
        while (S.State == SweepState.Running)
        {
            var running = S.Trials.Values.Where(t => t.State == TrialState.Running).Select(t => t.Trial).ToList();
            if (running.Count >= spec.Search.MaxConcurrentTrials)
            {
                return;
            }

            var job = _scheduler!.NextJob(_schedulerState!, S.NextTrial < spec.Search.Trials, running);
            ApplyOutbox();
            S.SchedulerState = SchedulerStateJson.Serialize(_schedulerState!);
            if (job is null)
            {
                break;
            }

            Dictionary<string, string> hp;
            var fromEpoch = 0;
            if (job.IsNew)
            {
                S.NextTrial = Math.Max(S.NextTrial, job.Trial + 1);
                var sampled = _sampler!.Sample(spec.Search.Space, job.Trial, Observations());
                if (job.Trial < spec.Search.Enqueued.Length)
                {
                    // Warm start: an enqueued configuration; what it leaves out comes from the sampler.
                    sampled = sampled.SetItems(spec.Search.Enqueued[job.Trial]);
                }

                var config = spec.Resolve(sampled);
                hp = config.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
                _scheduler.OnTrialConfig(_schedulerState!, job.Trial, hp);
                S.Trials[job.Trial] = new TrialSummary { Trial = job.Trial, State = TrialState.Running, Hyperparameters = hp, TargetEpoch = job.TargetStep };
                AddEvent("trial", job.Trial, null, null, null, "running",
                    $"trial {job.Trial} started (to epoch {job.TargetStep}): {string.Join(" ", spec.Search.Space.ParameterNames.Select(p => $"{p}={Short(hp[p])}"))}");
            }
            else
            {
                var t = S.Trials[job.Trial];
                hp = t.Hyperparameters;
                fromEpoch = t.LastEpoch;
                string[]? seeds = null;
                if (job is { Source: { } source, Config: { } explored, FromStep: { } from })
                {
                    // PBT exploit: continue from the source's fold checkpoints of the epoch the decision saw (every epoch's
                    // checkpoint is kept), with the explored configuration.
                    hp = explored.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
                    fromEpoch = from;
                    seeds = [.. spec.Dataset.Folds.Select(f => CheckpointKeys.ForEpoch(this.GetPrimaryKeyString(), source, f, from))];
                }

                S.Trials[job.Trial] = t with { State = TrialState.Running, TargetEpoch = job.TargetStep, Hyperparameters = hp, LastEpoch = fromEpoch, SeedCheckpointKeys = seeds, PendingFolds = [] };
                if (job.Decision is { } d)
                {
                    Record(d);
                }
            }

            await PersistAsync();
            await GrainFactory.GetGrain<ITrialGrain>(GrainKeys.Trial(this.GetPrimaryKeyString(), job.Trial))
                .StartAsync(Assignment(job.Trial, hp, job.TargetStep, fromEpoch, S.Trials[job.Trial].SeedCheckpointKeys));
        }

        if (S.State == SweepState.Running && S.Trials.Values.All(t => t.State != TrialState.Running))
        {
            foreach (var d in _scheduler!.Finish(_schedulerState!))
            {
                Record(d);
                if (S.Trials.TryGetValue(d.Trial, out var t) && t.State == TrialState.Paused)
                {
                    S.Trials[d.Trial] = t with { State = TrialState.Pruned };
                }
            }

            // Anything still paused (a scheduler that left it) is stopped with the sweep.
            foreach (var t in S.Trials.Values.Where(t => t.State == TrialState.Paused).ToList())
            {
                S.Trials[t.Trial] = t with { State = TrialState.Pruned };
            }

            S.SchedulerState = SchedulerStateJson.Serialize(_schedulerState!);
            var anyFinished = S.Trials.Values.Any(t => t.State is TrialState.Completed or TrialState.Pruned);
            S.State = anyFinished ? SweepState.Completed : SweepState.Failed;
            S.Error = anyFinished ? null : "every trial failed: " + string.Join("; ", S.Trials.Values.Select(t => t.Error).Where(e => e is not null).Distinct().Take(3));
            var best = Best();
            AddEvent("sweep", best?.Trial ?? -1, null, best?.LastEpoch, best?.LastValue, S.State.ToString().ToLowerInvariant(),
                best is null ? $"sweep {S.State.ToString().ToLowerInvariant()}" : $"sweep {S.State.ToString().ToLowerInvariant()}; best trial {best.Trial}");
            await PersistAsync();
        }
    }

    /// <summary>
    /// What samplers may learn from: every trial's configuration, state and last fold-mean value. A paused trial counts
    /// as an observation at its rung (as a pruned one does), so TPE learns from rung results under promotion ASHA. A failed
    /// trial (diverged, bad data, a crash) is no observation at all: its last value says nothing about its configuration.
    /// </summary>
    private List<Observation> Observations() => [.. _spec!.Search.SeedResults.Select((r, i) => new Observation(-1 - i, r.Config, ObservationState.Complete, r.Value, _spec.Training.Epochs)),
        .. S.Trials.Values.Where(t => t.State != TrialState.Failed).OrderBy(t => t.Trial).Select(t => new Observation(
        t.Trial, t.Hyperparameters,
        t.State switch
        {
            TrialState.Completed => ObservationState.Complete,
            TrialState.Running => ObservationState.Running,
            _ => ObservationState.Pruned,
        },
        t.LastValue, t.LastEpoch))];

    /// <summary>Applies and records decisions the scheduler made about other trials (e.g. a synchronous rung cut).</summary>
    private void ApplyOutbox()
    {
        foreach (var d in _schedulerState!.TakeOutbox())
        {
            Record(d);
            if (d.Kind == DecisionKind.Stop && S.Trials.TryGetValue(d.Trial, out var t) && t.State is TrialState.Paused or TrialState.Running)
            {
                S.Trials[d.Trial] = t with { State = TrialState.Pruned };
                if (t.State == TrialState.Running)
                {
                    _ = GrainFactory.GetGrain<ITrialGrain>(GrainKeys.Trial(this.GetPrimaryKeyString(), d.Trial)).StopAsync(d.Reason);
                }
            }
        }
    }

    private void Record(SchedulerDecision d)
    {
        var kind = d.Kind.ToString().ToLowerInvariant();
        S.Decisions.Add(new DecisionRecord(d.Trial, d.Step, kind, d.Value, d.Rung, d.Cutoff, d.Rank, d.Competitors, d.Reason));
        AunceTelemetry.Decisions.Add(1, new KeyValuePair<string, object?>("decision", kind));
        AddEvent("decision", d.Trial, null, d.Step, d.Value, kind, $"trial {d.Trial}: {d.Reason}");
    }

    private TrialAssignment Assignment(int number, Dictionary<string, string> hp, int targetEpoch, int fromEpoch, string[]? seedCheckpoints = null)
    {
        var spec = _spec!;
        return new TrialAssignment(this.GetPrimaryKeyString(), number, hp, [.. spec.Dataset.Folds], targetEpoch,
            spec.Dataset.ToRef(), spec.Model.ToRef(),
            spec.Training.ProbeSteps, spec.Training.ProbeLr, spec.Training.Device, (long)(spec.Seed % 1_000_000_007UL) + (number * 7919L), spec.Search.Metric,
            fromEpoch, spec.Training.Augment.ToRef(), spec.Search.Scheduler.PartialFolds, seedCheckpoints);
    }

    private void Load()
    {
        _spec = SweepSpecLoader.Parse(S.SpecYaml!, S.SpecFile, S.BaseDirectory);
        _sampler = _spec.Search.CreateSampler(_spec.Seed);
        _scheduler = _spec.Search.Scheduler.Create(_spec.Training.Epochs, _spec.Search.Mode, this.GetPrimaryKeyString(), _spec.Search.Space, _spec.Seed);
        _schedulerState = string.IsNullOrEmpty(S.SchedulerState) ? _scheduler.NewState() : SchedulerStateJson.Deserialize(S.SchedulerState);
    }

    /// <summary>The best trial: completed trials first, then by last fold-mean value in the sweep's direction; never a failed one.</summary>
    private TrialSummary? Best()
    {
        if (_spec is null)
        {
            return null;
        }

        var sign = _spec.Search.Mode == Direction.Maximize ? 1 : -1;
        return S.Trials.Values.Where(t => t.State != TrialState.Failed && t.LastValue is not null && t.LastCheckpoints.Length > 0)
            .OrderByDescending(t => t.LastEpoch >= _spec.Training.Epochs)
            .ThenByDescending(t => sign * t.LastValue!.Value)
            .ThenBy(t => t.Trial)
            .FirstOrDefault();
    }

    private SweepStatus Status() => new()
    {
        SweepId = this.GetPrimaryKeyString(),
        State = S.State,
        TotalTrials = _spec?.Search.Trials ?? 0,
        Trials = [.. S.Trials.Values.OrderBy(t => t.Trial)],
        Decisions = [.. S.Decisions],
        BestTrial = Best()?.Trial,
        Metric = _spec?.Search.Metric ?? "f1",
        Error = S.Error,
        LastEventSequence = _durableSequence,
    };

    private void AddEvent(string kind, int trial, int? fold, int? epoch, double? value, string stateName, string message)
    {
        S.Events.Add(new SweepEvent(++S.Sequence, kind, trial, fold, epoch, value, stateName, message));
        if (S.Events.Count > MaxEvents)
        {
            S.Events.RemoveRange(0, S.Events.Count - MaxEvents);
        }
    }

    private static string Short(string v) =>
        double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d)
            ? d.ToString("G4", System.Globalization.CultureInfo.InvariantCulture)
            : v;

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Sweep {SweepId} resumes with {Running} running trials")]
    private static partial void LogResuming(ILogger logger, string sweepId, int running);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Sweep {SweepId}: trial {Trial} ended {State}")]
    private static partial void LogTrialFinished(ILogger logger, string sweepId, int trial, TrialState state);
}

/// <summary>Names of grain storage providers the silo must configure.</summary>
public static class GrainStorageNames
{
    public const string Sweeps = "aunce";
}
