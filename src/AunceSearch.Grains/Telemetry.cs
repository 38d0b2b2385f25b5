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

    public static readonly Histogram<double> FoldEpochSeconds = Meter.CreateHistogram<double>("aunce.fold.epoch.duration", "s", "Wall time of one fold epoch (training + evaluation)");

    public static readonly Counter<long> Decisions = Meter.CreateCounter<long>("aunce.scheduler.decisions", description: "Scheduler decisions, by kind");

    public static readonly Counter<long> Trials = Meter.CreateCounter<long>("aunce.trials", description: "Trials ended, by state");

    public static readonly Histogram<double> FoldMetric = Meter.CreateHistogram<double>("aunce.fold.f1", description: "Mean per-AU F1 of a fold after an epoch");
}
