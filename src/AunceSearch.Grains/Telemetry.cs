using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AunceSearch.Grains;

/// <summary>AunceSearch's own traces and metrics (names are public so hosts can subscribe).</summary>
public static class AunceTelemetry
{
    public const string ActivitySourceName = "AunceSearch";
    public const string MeterName = "AunceSearch";

    public static readonly ActivitySource Source = new(ActivitySourceName);

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> FoldEpochs = Meter.CreateCounter<long>("aunce.fold.epochs", description: "Fold epochs finished");

    /// <summary>Bucket bounds (seconds) for durations from a millisecond write to a 20-minute epoch.</summary>
    private static readonly double[] Seconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000];

    /// <summary>Bucket bounds for a metric in [0, 1] (F1, accuracy).</summary>
    private static readonly double[] Unit = [.. Enumerable.Range(1, 20).Select(i => i / 20.0)];

    public static readonly Histogram<double> FoldEpochSeconds = Meter.CreateHistogram("aunce.fold.epoch.duration", "s", "Wall time of one fold epoch (training + evaluation)",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Seconds });

    public static readonly Counter<long> Decisions = Meter.CreateCounter<long>("aunce.scheduler.decisions", description: "Scheduler decisions, by kind");

    public static readonly Counter<long> Trials = Meter.CreateCounter<long>("aunce.trials", description: "Trials ended, by state");

    public static readonly Histogram<double> FoldMetric = Meter.CreateHistogram("aunce.fold.f1", null, "Mean per-AU F1 of a fold after an epoch",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Unit });

    public static readonly Counter<long> CheckpointBytes = Meter.CreateCounter<long>("aunce.checkpoint.written", "By", "Checkpoint bytes written to the store");

    public static readonly Histogram<double> CheckpointSeconds = Meter.CreateHistogram("aunce.checkpoint.write.duration", "s", "Time to write one checkpoint to the store",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Seconds });

    public static readonly Counter<long> JournalRetries = Meter.CreateCounter<long>("aunce.journal.retries", description: "Sweep journal writes tried again while grain storage was out");

    public static readonly Counter<long> FoldRetries = Meter.CreateCounter<long>("aunce.fold.retries", description: "Fold trainings that failed on their own and were tried again (training.max_attempts)");

    public static readonly Counter<long> SilosLost = Meter.CreateCounter<long>("aunce.silo.lost", description: "Silos a running sweep saw declared dead (each re-drives its running trials)");

    public static readonly Counter<long> CheckpointsDeleted = Meter.CreateCounter<long>("aunce.checkpoint.deleted", description: "Checkpoints deleted by the retention policy");

    public static readonly UpDownCounter<long> CheckpointsHeld = Meter.CreateUpDownCounter<long>("aunce.checkpoint.held", "By",
        "Finished checkpoints held in memory until the store takes them (grows while the store is out)");

    public static readonly Counter<long> FoldPauses = Meter.CreateCounter<long>("aunce.fold.pauses",
        description: "Fold trainings paused because the checkpoints they held reached Aunce:Checkpoints:MaxBufferedMiB");

    public static readonly Counter<long> CheckpointFailures = Meter.CreateCounter<long>("aunce.checkpoint.failures", description: "Checkpoint writes that failed");

    public static readonly Counter<long> JournalAppends = Meter.CreateCounter<long>("aunce.journal.appends", description: "Sweep journal entries stored");

    public static readonly Counter<long> JournalBytes = Meter.CreateCounter<long>("aunce.journal.written", "By", "Sweep journal bytes written (entries and snapshots)");

    public static readonly Histogram<double> JournalSeconds = Meter.CreateHistogram("aunce.journal.write.duration", "s", "Time to store one batch of journal entries",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Seconds });

    /// <summary>Each active sweep's latest published numbers (trials by state, best value), read by the gauges below.</summary>
    private static readonly ConcurrentDictionary<string, SweepGauge> Sweeps = new();

    /// <summary>This silo's training slots: how many, how many busy, on which device.</summary>
    private static volatile Func<(int Busy, int Capacity, string Device)>? _slots;

    static AunceTelemetry()
    {
        Meter.CreateObservableGauge("aunce.sweep.trials", () => Sweeps.SelectMany(s => s.Value.ByState.Select(p =>
            new Measurement<int>(p.Value, new KeyValuePair<string, object?>("aunce.sweep", s.Key), new KeyValuePair<string, object?>("state", p.Key)))),
            description: "Trials of each active sweep, by state");
        Meter.CreateObservableGauge("aunce.sweep.best", () => Sweeps.Where(s => s.Value.Best is not null).Select(s =>
            new Measurement<double>(s.Value.Best!.Value, new KeyValuePair<string, object?>("aunce.sweep", s.Key), new KeyValuePair<string, object?>("metric", s.Value.Metric))),
            description: "Best fold-mean value of each active sweep so far");
        Meter.CreateObservableGauge("aunce.slots.busy", () => _slots?.Invoke() is { } s ? [Slot(s.Busy, s.Device)] : Array.Empty<Measurement<int>>(),
            description: "Fold trainings running on this silo");
        Meter.CreateObservableGauge("aunce.slots.capacity", () => _slots?.Invoke() is { } s ? [Slot(s.Capacity, s.Device)] : Array.Empty<Measurement<int>>(),
            description: "Fold trainings this silo runs at once");
        Meter.CreateObservableGauge("aunce.device.memory.used", () => _slots is { } f
                ? [new Measurement<long>(Environment.WorkingSet, new KeyValuePair<string, object?>("aunce.device", f().Device))]
                : Array.Empty<Measurement<long>>(),
            "By", "Memory in use for training: the process's working set on CPU silos (libtorch's CUDA allocator is not exposed by TorchSharp 0.107)");

        Meter.CreateObservableGauge("aunce.cluster.folds.queued", () => _queue?.Invoke() is { } q ? [new Measurement<int>(q.Queued)] : Array.Empty<Measurement<int>>(),
            description: "Folds waiting for a training slot in the cluster (on the silo hosting the slot director)");
        Meter.CreateObservableGauge("aunce.cluster.slots.busy", () => _queue?.Invoke() is { } q ? [new Measurement<int>(q.Busy)] : Array.Empty<Measurement<int>>(),
            description: "Training slots held by folds across the cluster");
        Meter.CreateObservableGauge("aunce.cluster.slots.capacity", () => _queue?.Invoke() is { } q ? [new Measurement<int>(q.Total)] : Array.Empty<Measurement<int>>(),
            description: "Training slots advertised by the cluster's trainer silos");
        Meter.CreateObservableGauge("aunce.cluster.trainers", () => _queue?.Invoke() is { } q ? [new Measurement<int>(q.Trainers)] : Array.Empty<Measurement<int>>(),
            description: "Trainer silos advertising slots");

        static Measurement<int> Slot(int value, string device) => new(value, new KeyValuePair<string, object?>("aunce.device", device));
    }

    /// <summary>A sweep's numbers as the gauges show them.</summary>
    public sealed record SweepGauge(IReadOnlyDictionary<string, int> ByState, double? Best, string Metric);

    /// <summary>Publishes (or replaces) a sweep's numbers for the gauges.</summary>
    public static void PublishSweep(string sweepId, SweepGauge gauge) => Sweeps[sweepId] = gauge;

    /// <summary>Stops showing a sweep (its grain deactivated).</summary>
    public static void ForgetSweep(string sweepId) => Sweeps.TryRemove(sweepId, out _);

    /// <summary>The slot director's numbers (null: the director is not on this silo).</summary>
    private static volatile Func<(int Queued, int Busy, int Total, int Trainers)>? _queue;

    /// <summary>Shows (or, with null, stops showing) the cluster's fold queue and slots: the slot director calls this.</summary>
    public static void ObserveQueue(Func<(int Queued, int Busy, int Total, int Trainers)>? queue) => _queue = queue;

    /// <summary>Shows this silo's training slots (the host calls this once it has a training executor).</summary>
    public static void ObserveSlots(Func<(int Busy, int Capacity, string Device)> slots) => _slots = slots;
}
