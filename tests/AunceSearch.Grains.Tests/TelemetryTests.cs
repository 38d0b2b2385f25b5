using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AunceSearch.Contracts;
using AunceSearch.Spec;
using AunceSearch.Training;

namespace AunceSearch.Grains.Tests;

/// <summary>
/// Traces and metrics with HPO meaning, read back from what the process exports: one trace per trial leg (a root
/// "trial.leg" span tagged with the sweep, trial and configuration), each fold's "fold.train" span and its "fold.epoch"
/// spans in it, the scheduler's decisions as span events in the same trace, and fold metrics tagged with the sweep.
/// </summary>
public sealed class TelemetryTests
{
    private sealed class TwoEpochTrainer : IFoldTrainingRunner
    {
        public Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
        {
            for (var epoch = FakeEpochs.Start(request); epoch <= request.Epochs; epoch++)
            {
                FakeEpochs.Report(request, epoch, 0.3 + (0.1 * epoch) - Math.Abs(Math.Log10(FakeEpochs.Lr(request)) + 3) / 20, onEpoch);
            }

            return Task.FromResult<(TrainingOutcome, Exception?)>((TrainingOutcome.Completed, null));
        }
    }

    [Fact]
    public async Task Each_trial_leg_is_a_trace_holding_its_folds_epochs_and_decisions_and_metrics_carry_the_sweep()
    {
        var sweepId = $"otel-{Guid.NewGuid():N}";
        var spans = new ConcurrentBag<Activity>();
        var foldSpans = 0;
        var allFoldSpans = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == AunceTelemetry.ActivitySourceName || s.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                spans.Add(a);
                if (a.OperationName == "fold.train" && a.GetTagItem("aunce.sweep") as string == sweepId && Interlocked.Increment(ref foldSpans) == 4)
                {
                    allFoldSpans.TrySetResult();
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var epochsBySweep = new ConcurrentBag<string?>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == AunceTelemetry.MeterName && instrument.Name == "aunce.fold.epochs")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "aunce.sweep")
                {
                    epochsBySweep.Add(tag.Value as string);
                }
            }
        });
        meters.Start();

        var root = FakeTrainerClusters.DataRoot();
        await using var cluster = FakeTrainerClusters.Build(root, _ => new TwoEpochTrainer());
        await cluster.DeployAsync();
        var sweep = cluster.Client.GetGrain<ISweepGrain>(sweepId);
        await sweep.StartAsync(SweepSpecLoader.Parse("""
            name: otel
            dataset: {root: data, folds: [1, 2], image_size: 32}
            training: {epochs: 2, device: cpu}
            search: {trials: 2, max_concurrent_trials: 2, sampler: random, scheduler: {kind: none}, space: {lr: {log_uniform: [1.0e-4, 1.0e-2]}}}
            """, "spec.yaml", root));
        Assert.Equal(SweepState.Completed, (await FakeTrainerClusters.UntilEndedAsync(sweep, TimeSpan.FromMinutes(1))).State);

        // A fold's span ends when its run does, just after its end reached the trial: wait for all four to stop, not for a time.
        List<Activity> Mine() => [.. spans.Where(s => s.GetTagItem("aunce.sweep") as string == sweepId)];
        await allFoldSpans.Task.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(t => Assert.True(t.IsCompletedSuccessfully,
            $"fold spans: {Volatile.Read(ref foldSpans)} of 4 ended within 30 s"), TaskScheduler.Default);

        var mine = Mine();
        var legs = mine.Where(s => s.OperationName == "trial.leg").ToList();
        Assert.Equal(2, legs.Count);
        Assert.All(legs, l => Assert.Equal(default, l.ParentSpanId));                      // roots
        Assert.Equal(2, legs.Select(l => l.TraceId).Distinct().Count());                   // a trace each
        Assert.All(legs, l => Assert.NotNull(l.GetTagItem("aunce.hp.lr")));
        Assert.All(legs, l => Assert.Equal("completed", l.GetTagItem("aunce.state")));

        foreach (var leg in legs)
        {
            var trial = (int)leg.GetTagItem("aunce.trial")!;
            var folds = mine.Where(s => s.OperationName == "fold.train" && (int)s.GetTagItem("aunce.trial")! == trial).ToList();
            Assert.Equal(2, folds.Count);
            Assert.All(folds, f => Assert.Equal(leg.TraceId, f.TraceId));                  // the folds are in the leg's trace
            var epochs = mine.Where(s => s.OperationName == "fold.epoch" && (int)s.GetTagItem("aunce.trial")! == trial).ToList();
            Assert.Equal(4, epochs.Count);                                                   // 2 folds x 2 epochs
            Assert.All(epochs, e => Assert.Contains(folds, f => f.SpanId == e.ParentSpanId));
            Assert.All(epochs, e => Assert.NotNull(e.GetTagItem("aunce.f1")));

            // The sweep's decision (complete at epoch 2) is an event in this trace, with its evidence.
            var decisions = spans.Where(s => s.TraceId == leg.TraceId).SelectMany(s => s.Events).Where(e => e.Name == "aunce.decision").ToList();
            Assert.Contains(decisions, d => d.Tags.Any(t => t.Key == "aunce.decision" && (string?)t.Value == "complete"));
            Assert.Contains(leg.Events, e => e.Name == "aunce.directive");
        }

        meters.RecordObservableInstruments();
        Assert.Equal(8, epochsBySweep.Count(s => s == sweepId));                              // 2 trials x 2 folds x 2 epochs
    }
}
