using System.Globalization;
using System.Text.Json.Nodes;
using AunceSearch.Contracts;
using AunceSearch.Model;
using AunceSearch.Search;
using AunceSearch.Search.Pruners;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Coordination;

/// <summary>
/// The sweep's logic, with no host: it owns the sampler and the scheduler (pure code from AunceSearch.Search), decides on
/// every input, and returns what the host must do. Every input is applied synchronously and completely, so the state is
/// a fold over the journal of inputs: replaying a journal (from a snapshot) gives the same state and the same later
/// decisions as the run that wrote it. No clock, no randomness but the spec's seed.
/// </summary>
public sealed partial class SweepCoordinator
{
    /// <summary>How many progress events the state keeps at least (the latest; up to a quarter more between trims).</summary>
    public const int MaxEvents = 20_000;

    /// <summary>Past this many events the oldest are trimmed back to <see cref="MaxEvents"/> at once: a shift of the list every 5,000 events, not at every event.</summary>
    private const int EventsTrimAt = MaxEvents + (MaxEvents / 4);

    private readonly string _sweepId;
    private readonly Func<int, int, int, string> _checkpointKey;
    private readonly CoordinatorState _s;
    private SweepDefinition? _spec;
    private SearchSpace? _space;
    private Direction _direction;
    private ITrialScheduler? _scheduler;
    private SchedulerState? _schedulerState;
    private ISampler? _sampler;
    private TrialRanking? _ranking;
    private RetentionPolicy? _retention;
    private List<CoordinatorCommand> _commands = [];

    /// <summary>The running trials, in order: kept by <see cref="Put"/> (derived from <see cref="CoordinatorState.Trials"/>, never stored).</summary>
    private readonly SortedSet<int> _running = [];

    /// <param name="sweepId">The sweep's id (trial and checkpoint keys derive from it).</param>
    /// <param name="checkpointKey">The checkpoint key of (trial, fold, epoch): where PBT legs start from another trial's checkpoint.</param>
    /// <param name="snapshot">A snapshot from <see cref="Snapshot"/>, or null for a new sweep.</param>
    public SweepCoordinator(string sweepId, Func<int, int, int, string> checkpointKey, byte[]? snapshot = null)
    {
        _sweepId = sweepId;
        _checkpointKey = checkpointKey;
        SchedulerState? scheduler = null;
        (_s, scheduler) = snapshot is null ? (new CoordinatorState(), null) : CoordinatorSnapshot.Decode(snapshot, sweepId);
        _running.UnionWith(_s.Trials.Values.Where(t => t.State == TrialState.Running).Select(t => t.Trial));
        if (_s.Definition is not null)
        {
            Load(scheduler);
        }

        else if (snapshot is [(byte)'{', ..] && JsonNode.Parse(snapshot) is JsonObject { } old && old.ContainsKey("SpecYaml"))
        {
            throw new InvalidDataException($"sweep {sweepId}: its state was written by an AunceSearch before typed sweep definitions (it holds spec text); " +
                                           "finish it with that version, or start it again");
        }
    }

    public bool Exists => _s.Definition is not null;

    public SweepState State => _s.State;

    /// <summary>How many journaled inputs the state has applied.</summary>
    public long Inputs => _s.Inputs;

    /// <summary>The sequence number of the last event.</summary>
    public long Sequence => _s.Sequence;

    /// <summary>The sweep as submitted, or null before it is started.</summary>
    public SweepDefinition? Definition => _s.Definition;

    /// <summary>What a sweep list shows of it (null before it is started).</summary>
    public SweepListing? Listing => _spec is null ? null : new SweepListing(
        _sweepId, _spec.Name, _spec.Search.Trials, _spec.Folds.Length, _spec.Training.Epochs, _scheduler!.Name,
        _spec.Search.Sampler switch
        {
            TpeSampling => "tpe",
            GridSampling => "grid",
            SobolSampling => "sobol",
            _ => "random",
        });

    /// <summary>The decisions made so far, in order (each with its evidence).</summary>
    public IReadOnlyList<DecisionRecord> Decisions => _s.Decisions;

    /// <summary>The state as bytes (<see cref="CoordinatorSnapshot"/>): restored by the constructor, it makes the same decisions.</summary>
    public byte[] Snapshot() => CoordinatorSnapshot.Encode(CaptureState());

    /// <summary>
    /// The state now, as a copy that later inputs do not change: <see cref="CoordinatorSnapshot.Encode"/> it on any thread
    /// (the host encodes it off its turn, so reports keep being applied meanwhile). The scheduler's state is serialised here.
    /// </summary>
    public CoordinatorState CaptureState()
    {
        var copy = _s.Copy();
        if (_schedulerState is not null)
        {
            copy.SchedulerState = SchedulerStateJson.Serialize(_schedulerState);   // the live state holds it parsed, never as text
        }

        return copy;
    }

    /// <summary>
    /// Applies one input. Throws <see cref="ArgumentException"/> (an invalid definition) or <see cref="InvalidOperationException"/>
    /// (the id exists with another definition, the difference named) for a <see cref="SweepStarted"/> that must not be
    /// journaled; nothing changes then.
    /// </summary>
    public CoordinatorOutcome Apply(SweepInput input)
    {
        _commands = [];
        var (directive, changed) = input switch
        {
            SweepStarted s => (TrialDirective.Continue, Start(s)),
            FoldEpochDelivered f => (TrialDirective.Continue, OnFoldEpoch(f.Report)),
            TrialEpochReported r => OnTrialEpoch(r.Report),
            PartialEpochReported p => OnPartialEpoch(p.Report, p.TotalFolds),
            TrialLegEnded e => (TrialDirective.Continue, OnLegEnded(e.Trial, e.State, e.Error, e.LegEpochs)),
            SweepCancelled => (TrialDirective.Continue, Cancel()),
            SweepResumed => (TrialDirective.Continue, Resume()),
            SweepRecovered => (TrialDirective.Continue, Recover()),
            _ => throw new ArgumentException($"unknown sweep input {input.GetType().Name}", nameof(input)),
        };
        if (changed)
        {
            _s.Inputs++;
        }

        return new CoordinatorOutcome(directive, _commands, changed);
    }

    /// <summary>What to send the trials that are running (after the host came back): their current legs, with the fold epochs already stored.</summary>
    public IReadOnlyList<CoordinatorCommand> RunningTrials() => _spec is null || _s.State != SweepState.Running ? [] :
        [.. _running.Select(n => _s.Trials[n]).Select(t => new StartTrial(
            Assignment(t.Trial, t.Hyperparameters, t.TargetEpoch, t.LastEpoch, t.SeedCheckpointKeys) with
            {
                Delivered = t.PendingFolds.Length > 0 ? t.PendingFolds : null,
            }))];

    /// <summary>Whether the sweep runs with no trial running (its host died between trials): <see cref="SweepRecovered"/> continues it.</summary>
    public bool Stalled => _spec is not null && _s.State == SweepState.Running && _s.Trials.Values.All(t => t.State != TrialState.Running);

    /// <summary>Events with sequence numbers in (<paramref name="after"/>, <paramref name="upTo"/>].</summary>
    public SweepEvent[] Events(long after, long upTo) => [.. _s.Events.Where(e => e.Sequence > after && e.Sequence <= upTo)];

    public SweepStatus Status(long lastVisibleEvent) => new()
    {
        SweepId = _sweepId,
        State = _s.State,
        TotalTrials = _spec?.Search.Trials ?? 0,
        Trials = [.. _s.Trials.Values.OrderBy(t => t.Trial).Select(Full)],
        Decisions = [.. _s.Decisions],
        BestTrial = Best()?.Trial,
        Metric = MetricName,
        Error = _s.Error,
        LastEventSequence = lastVisibleEvent,
    };

    private bool Start(SweepStarted start)
    {
        if (start.Definition is null)
        {
            throw new ArgumentException($"sweep '{_sweepId}': started without a definition");
        }

        if (_s.Definition is not null)
        {
            return DefinitionDiff.First(_s.Definition, start.Definition) is not { } difference ? false
                : throw new InvalidOperationException($"sweep '{_sweepId}' already exists with a different definition: {difference}");
        }

        // An invalid definition changes nothing: checked, and its space and scheduler built, before the state is touched.
        start.Definition.Validate();
        var space = start.Definition.Search.Space.ToSpace();
        _ = start.Definition.Search.CreateSampler(start.Definition.Seed);
        _ = start.Definition.CreateScheduler(_sweepId, space);
        _s.Definition = start.Definition;
        _s.State = SweepState.Running;
        Load();
        AddEvent("sweep", -1, null, null, null, "running",
            $"sweep {_sweepId} started: {_spec!.Search.Trials} trials x {_spec.Folds.Length} folds x up to {_spec.Training.Epochs} epochs, scheduler {_scheduler!.Name}");
        Fill();
        return true;
    }

    private bool OnFoldEpoch(FoldEpochReport report)
    {
        if (_spec is null)
        {
            return false;
        }

        var v = FoldValue(report);
        var better = _direction == Direction.Maximize ? Math.Max : (Func<double, double, double>)Math.Min;
        _s.BestFoldValue[report.Epoch] = _s.BestFoldValue.TryGetValue(report.Epoch, out var old) ? better(old, v) : v;
        if (_s.Trials.TryGetValue(report.Trial, out var trial) && trial.State == TrialState.Running && report.Epoch > trial.LastEpoch)
        {
            Put(trial with
            {
                PendingFolds = [.. trial.PendingFolds.Where(f => f.Fold != report.Fold || f.Epoch != report.Epoch), report],
            });
        }
        else if (trial is { State: TrialState.Completed or TrialState.Pruned or TrialState.Failed })
        {
            _retention!.PruneEnded(report.Trial);   // a fold that finished its epoch after its trial ended: its checkpoint is not kept either
        }

        AddEvent("fold-epoch", report.Trial, report.Fold, report.Epoch, report.MeanF1, "running",
            $"trial {report.Trial} fold {report.Fold} epoch {report.Epoch}: F1 {report.MeanF1:0.0000} acc {report.MeanAccuracy:0.0000} loss {report.TrainLoss:0.0000} ({report.Seconds:0.0} s on {report.Silo})" +
            (report.Skipped > 0 ? $"; {report.Skipped} bad data entries skipped (dataset.skip_bad)" : ""));
        return true;
    }

    /// <summary>
    /// Whether the fold epochs of <paramref name="report"/> are exactly those of its epoch this coordinator holds (each
    /// delivered and journaled before): then the report can be journaled without them, and applying it takes them from here.
    /// </summary>
    public bool HoldsFolds(TrialEpochReport report)
    {
        if (report.Folds.Length == 0 || !_s.Trials.TryGetValue(report.Trial, out var trial))
        {
            return false;
        }

        var held = trial.PendingFolds.Where(f => f.Epoch == report.Epoch).ToList();
        return held.Count == report.Folds.Length &&
               report.Folds.All(f => held.Any(h => h.SameAs(f)));
    }

    private (TrialDirective, bool) OnTrialEpoch(TrialEpochReport report)
    {
        if (_spec is null || !_s.Trials.TryGetValue(report.Trial, out var trial) || _s.State != SweepState.Running || trial.State != TrialState.Running)
        {
            return (TrialDirective.Stop, false);
        }

        // A report journaled without its folds (the coordinator held them all: HoldsFolds) takes them from the fold epochs delivered.
        var folds = report.Folds.Length > 0 ? report.Folds : [.. trial.PendingFolds.Where(f => f.Epoch == report.Epoch)];
        var ordered = folds.OrderBy(f => f.Fold).ToArray();
        trial = Full(trial);
        _s.UnparsedDetails.Remove(trial.Trial);
        Put(trial with
        {
            LastEpoch = report.Epoch,
            LastValue = report.Value,
            LastMeanF1 = report.MeanF1,
            LastMeanAccuracy = report.MeanAccuracy,
            LastCheckpoints = [.. ordered.Select(f => f.CheckpointLocation)],
            LastCheckpointKeys = [.. ordered.Select(f => f.CheckpointKey)],
            History = [.. trial.History, report.Value],
            FoldHistory = [.. ordered.Select((f, k) => (double[])[.. k < trial.FoldHistory.Length ? trial.FoldHistory[k] : [], FoldValue(f)])],
            LastFolds = ordered,
            PendingFolds = [.. trial.PendingFolds.Where(f => f.Epoch > report.Epoch)],
        });

        double[]? vector = _spec.Search.Scheduler is AshaScheduling { Objectives.Length: > 0 } a ? [.. a.Objectives.Select(o => o.Metric switch
        {
            ObjectiveMetric.F1 => report.MeanF1,
            ObjectiveMetric.Accuracy => report.MeanAccuracy,
            ObjectiveMetric.Seconds => folds.Average(f => f.Seconds),
            _ => folds.Average(f => f.TrainLoss),
        })] : null;
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
            Put(_s.Trials[report.Trial] with { State = TrialState.Paused });
        }

        if (_spec.Search.Scheduler is not PbtScheduling)
        {
            _retention!.Prune(report.Trial, report.Epoch - 1);   // a running trial keeps its two latest epochs (one to fall back on)
        }

        AddEvent("trial-epoch", report.Trial, null, report.Epoch, report.Value, directive == TrialDirective.Stop ? "pruned" : "running",
            $"trial {report.Trial} epoch {report.Epoch}: fold-mean {MetricName} {report.Value:0.0000}");
        if (directive == TrialDirective.Stop)
        {
            Put(_s.Trials[report.Trial] with { State = TrialState.Pruned });
        }

        return (directive, true);
    }

    private (TrialDirective, bool) OnPartialEpoch(TrialEpochReport report, int totalFolds)
    {
        if (_spec is not { Search.PartialFolds: true } || _s.State != SweepState.Running ||
            !_s.Trials.TryGetValue(report.Trial, out var trial) || trial.State != TrialState.Running || report.Folds.Length == 0)
        {
            return (TrialDirective.Continue, false);
        }

        var known = report.Folds.Select(FoldValue).ToArray();
        var bound = _s.BestFoldValue.TryGetValue(report.Epoch, out var b) ? b : (_direction == Direction.Maximize ? known.Max() : known.Min());
        var decision = PartialFoldPruning.Decide(_scheduler!, _schedulerState!, report.Trial, report.Epoch, known, totalFolds, bound, _direction);
        if (decision is null)
        {
            return (TrialDirective.Continue, false);
        }

        Record(decision);
        Put(trial with { State = TrialState.Pruned });
        return (TrialDirective.Stop, true);
    }

    private double FoldValue(FoldEpochReport f) => _spec!.Search.Metric == SweepMetric.Accuracy ? f.MeanAccuracy : f.MeanF1;

    /// <summary>The metric's name as status and events show it.</summary>
    private string MetricName => _spec?.Search.Metric == SweepMetric.Accuracy ? "accuracy" : "f1";

    private bool OnLegEnded(int trial, TrialState finalState, string? error, int? legEpochs)
    {
        if (_spec is null || !_s.Trials.TryGetValue(trial, out var summary) || summary.State is TrialState.Completed or TrialState.Failed)
        {
            return false;
        }

        if (legEpochs is { } leg && leg != summary.TargetEpoch)
        {
            // The end of an earlier leg: the scheduler promoted the trial (a barrier or rung does not wait for a paused leg's
            // folds to wind down) and its next leg is running. Taken as this leg's end, it would complete or fail the trial
            // at the rung — a promoted trial "completed" without its promotion's epochs.
            return false;
        }

        if (_s.State == SweepState.Cancelled && error is null && finalState != TrialState.Completed)
        {
            return false;   // stopped by the cancel, not finished: it stays running in the sweep's state, and a resume restarts it
        }

        // A leg that ended at a rung (paused) waits for promotion unless it failed; pruned stays pruned.
        var final = finalState == TrialState.Failed ? TrialState.Failed
            : summary.State is TrialState.Pruned or TrialState.Paused ? summary.State
            : finalState;
        Put(summary with { State = final, Error = error });
        if (final != TrialState.Paused)
        {
            _retention!.Ended(trial);
            _scheduler!.OnTrialEnded(_schedulerState!, trial, final == TrialState.Completed ? TrialPhase.Complete : TrialPhase.Pruned);
            AddEvent("trial", trial, null, summary.LastEpoch, summary.LastValue, final.ToString().ToLowerInvariant(),
                error is null ? $"trial {trial} {final.ToString().ToLowerInvariant()}" : $"trial {trial} {final.ToString().ToLowerInvariant()}: {error}");
        }

        Fill();
        return true;
    }

    private bool Cancel()
    {
        if (_s.State != SweepState.Running)
        {
            return false;
        }

        _s.State = SweepState.Cancelled;
        AddEvent("sweep", -1, null, null, null, "cancelled", "sweep cancelled");
        _commands.AddRange(_running.Select(t => new StopTrial(t, "sweep cancelled")));
        return true;
    }

    private bool Resume()
    {
        if (_spec is null || _s.State is not (SweepState.Cancelled or SweepState.Running))
        {
            return false;
        }

        if (_s.State == SweepState.Cancelled)
        {
            _s.State = SweepState.Running;
            _s.Error = null;
            AddEvent("sweep", -1, null, null, null, "running",
                $"sweep {_sweepId} resumed: {_running.Count} interrupted trial(s) continue from their checkpoints");
            _commands.AddRange(RunningTrials());
        }

        if (_s.State == SweepState.Running)
        {
            Fill();   // journaled even when it starts nothing: the scheduler may have moved
        }

        return true;
    }

    private bool Recover()
    {
        if (!Stalled)
        {
            return false;
        }

        Fill();
        return true;
    }

    /// <summary>Stores a trial's new summary: every change to a trial goes through here, so <see cref="_running"/> stays exact.</summary>
    private void Put(TrialSummary trial)
    {
        _s.Trials[trial.Trial] = trial;
        if (trial.State == TrialState.Running)
        {
            _running.Add(trial.Trial);
        }
        else
        {
            _running.Remove(trial.Trial);
        }
    }

    /// <summary>
    /// Asks the scheduler for jobs (promote a paused trial, or start a new one) while fewer than max_concurrent_trials
    /// run; ends the sweep when nothing runs and the scheduler has nothing left.
    /// </summary>
    private void Fill()
    {
        var spec = _spec!;
        List<int> RunningNow() => [.. _running];   // in order; no scan of the sweep's trials (O(trials) a leg's end, before)
        var running = RunningNow();
        while (_s.State == SweepState.Running)
        {
            if (running.Count >= spec.Search.MaxConcurrentTrials)
            {
                return;
            }

            var (job, others) = _scheduler!.NextJob(_schedulerState!, _s.NextTrial < spec.Search.Trials, running);
            if (Apply(others))
            {
                running = RunningNow();
            }

            if (job is null)
            {
                break;
            }

            Dictionary<string, string> hp;
            var fromEpoch = 0;
            if (job.IsNew)
            {
                _s.NextTrial = Math.Max(_s.NextTrial, job.Trial + 1);
                var sampled = _sampler!.Sample(_space!, job.Trial, new Deferred<Observation>(() => SamplerHistory.Observations(spec, _s.Trials.Values)));   // O(trials): built only by samplers that learn
                if (job.Trial < spec.Search.Enqueued.Length)
                {
                    // Warm start: an enqueued configuration; what it leaves out comes from the sampler.
                    sampled = sampled.SetItems(spec.Search.Enqueued[job.Trial]);
                }

                var config = spec.Training.Resolve(sampled);
                hp = config.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
                _scheduler.OnTrialConfig(_schedulerState!, job.Trial, hp);
                Put(new TrialSummary { Trial = job.Trial, State = TrialState.Running, Hyperparameters = hp, TargetEpoch = job.TargetStep });
                AddEvent("trial", job.Trial, null, null, null, "running",
                    $"trial {job.Trial} started (to epoch {job.TargetStep}): {string.Join(" ", _space!.ParameterNames.Select(p => $"{p}={Short(hp[p])}"))}");
            }
            else
            {
                var t = _s.Trials[job.Trial];
                hp = t.Hyperparameters;
                fromEpoch = t.LastEpoch;
                string[]? seeds = null;
                if (job is { Source: { } source, Config: { } explored, FromStep: { } from })
                {
                    // PBT exploit: continue from the source's fold checkpoints of the epoch the decision saw (every epoch's
                    // checkpoint is kept), with the explored configuration.
                    hp = explored.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
                    fromEpoch = from;
                    seeds = [.. spec.Folds.Select(f => _checkpointKey(source, f, from))];
                }

                Put(t with
                {
                    State = TrialState.Running, TargetEpoch = job.TargetStep, Hyperparameters = hp, LastEpoch = fromEpoch, SeedCheckpointKeys = seeds, PendingFolds = [],
                    SeedTrial = seeds is null ? null : job.Source, SeedEpoch = seeds is null ? null : job.FromStep,
                });
                if (job.Decision is { } d)
                {
                    Record(d);
                }
            }

            _commands.Add(new StartTrial(Assignment(job.Trial, hp, job.TargetStep, fromEpoch, _s.Trials[job.Trial].SeedCheckpointKeys)));
            var at = running.BinarySearch(job.Trial);
            if (at < 0)
            {
                running.Insert(~at, job.Trial);
            }
        }

        if (_s.State == SweepState.Running && running.Count == 0)
        {
            foreach (var d in _scheduler!.Finish(_schedulerState!))
            {
                Record(d);
                if (_s.Trials.TryGetValue(d.Trial, out var t) && t.State == TrialState.Paused)
                {
                    Put(t with { State = TrialState.Pruned });
                    _retention!.Ended(d.Trial);
                }
            }

            // Anything still paused (a scheduler that left it) is stopped with the sweep.
            foreach (var t in _s.Trials.Values.Where(t => t.State == TrialState.Paused).ToList())
            {
                Put(t with { State = TrialState.Pruned });
                _retention!.Ended(t.Trial);
            }

            var anyFinished = _s.Trials.Values.Any(t => t.State is TrialState.Completed or TrialState.Pruned);
            _s.State = anyFinished ? SweepState.Completed : SweepState.Failed;
            _s.Error = anyFinished ? null : "every trial failed: " + string.Join("; ", _s.Trials.Values.Select(t => t.Error).Where(e => e is not null).Distinct().Take(3));
            var best = Best();
            AddEvent("sweep", best?.Trial ?? -1, null, best?.LastEpoch, best?.LastValue, _s.State.ToString().ToLowerInvariant(),
                best is null ? $"sweep {_s.State.ToString().ToLowerInvariant()}" : $"sweep {_s.State.ToString().ToLowerInvariant()}; best trial {best.Trial}");
        }
    }

    /// <summary>Applies and records decisions the scheduler made about other trials (e.g. a synchronous rung cut); returns whether a running trial was stopped.</summary>
    private bool Apply(IReadOnlyList<SchedulerDecision> decisions)
    {
        var stopped = false;
        foreach (var d in decisions)
        {
            Record(d);
            if (d.Kind == DecisionKind.Stop && _s.Trials.TryGetValue(d.Trial, out var t) && t.State is TrialState.Paused or TrialState.Running)
            {
                Put(t with { State = TrialState.Pruned });
                _retention!.Ended(d.Trial);
                if (t.State == TrialState.Running)
                {
                    _commands.Add(new StopTrial(d.Trial, d.Reason));
                    stopped = true;
                }
            }
        }

        return stopped;
    }

    private void Record(SchedulerDecision d)
    {
        var kind = d.Kind.ToString().ToLowerInvariant();
        _s.Decisions.Add(new DecisionRecord(d.Trial, d.Step, kind, d.Value, d.Rung, d.Cutoff, d.Rank, d.Competitors, d.Reason));
        AddEvent("decision", d.Trial, null, d.Step, d.Value, kind, $"trial {d.Trial}: {d.Reason}");
    }

    /// <summary>A trial's leg: its configuration, folds, target epoch and the seed derived from the sweep's seed and the trial number.</summary>
    private TrialAssignment Assignment(int number, Dictionary<string, string> hp, int targetEpoch, int fromEpoch, string[]? seedCheckpoints = null)
    {
        var spec = _spec!;
        return new TrialAssignment(_sweepId, number, hp, [.. spec.Folds], targetEpoch, spec.Dataset, spec.Model, spec.Training,
            (long)(spec.Seed % 1_000_000_007UL) + (number * 7919L), spec.Search.Metric, fromEpoch, spec.Search.PartialFolds, seedCheckpoints);
    }

    /// <param name="scheduler">The scheduler's state when a snapshot parsed it already (beside the trials), else it is read from <see cref="CoordinatorState.SchedulerState"/>.</param>
    private void Load(SchedulerState? scheduler = null)
    {
        _spec = _s.Definition!;
        _space = _spec.Search.Space.ToSpace();
        _direction = _spec.Search.Direction;
        _sampler = _spec.Search.CreateSampler(_spec.Seed);
        _scheduler = _spec.CreateScheduler(_sweepId, _space);
        _schedulerState = _scheduler.Adopt(scheduler ?? (string.IsNullOrEmpty(_s.SchedulerState) ? _scheduler.NewState() : SchedulerStateJson.Deserialize(_s.SchedulerState)));   // a state stored as the old bag becomes the scheduler's own
        _s.SchedulerState = "";   // parsed: the text (tens of MB at 100,000 trials) is not kept
        _ranking = new TrialRanking(_spec.Training.Epochs, _direction);
        _retention = new RetentionPolicy(_spec.Retention, _s, _ranking, _spec.Search.Scheduler is PbtScheduling, () => (_schedulerState as PbtSchedulerState)?.Legs.Values ?? Enumerable.Empty<PbtLeg>(),
            command => _commands.Add(command));
    }

    /// <summary><paramref name="trial"/> with its fold details, parsed from the snapshot when they are still unparsed (the state is not changed).</summary>
    private TrialSummary Full(TrialSummary trial) =>
        _s.UnparsedDetails.TryGetValue(trial.Trial, out var bytes) && CoordinatorSnapshot.ParseDetails(bytes, _sweepId, trial.Trial) is var d
            ? trial with { LastFolds = d.LastFolds, FoldHistory = d.FoldHistory }
            : trial;

    /// <summary>The best trial: completed trials first, then by last fold-mean value in the sweep's direction; never a failed one.</summary>
    public TrialSummary? Best() => _ranking?.Best(_s.Trials.Values);

    private void AddEvent(string kind, int trial, int? fold, int? epoch, double? value, string stateName, string message)
    {
        _s.Events.Add(new SweepEvent(++_s.Sequence, kind, trial, fold, epoch, value, stateName, message));
        if (_s.Events.Count > EventsTrimAt)
        {
            _s.Events.RemoveRange(0, _s.Events.Count - MaxEvents);
        }
    }

    private static string Short(string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            ? d.ToString("G4", CultureInfo.InvariantCulture)
            : v;
}
