using System.Collections.Concurrent;
using AunceSearch.Contracts;
using AunceSearch.Tests;
using AunceSearch.Training;
using Orleans.TestingHost;

namespace AunceSearch.Grains.Tests;

/// <summary>
/// A crash between two folds' reports of one epoch: the fold that had reported is not trained again after the restart,
/// every fold epoch is in the sweep's events once, and the sweep ends with the trials of a run that never crashed.
/// </summary>
public sealed class FoldEpochDurabilityTests
{
    /// <summary>Folds that "train" at once; while <see cref="Hold"/> is set, fold 2 never finishes an epoch and fold 1 stops after epoch 1.</summary>
    private sealed class GatedTrainer : IFoldTrainingRunner
    {
        public volatile bool Hold;
        public readonly ConcurrentQueue<(string Label, int Start)> Starts = new();
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _release.TrySetResult();

        public async Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
        {
            var start = FakeEpochs.Start(request);
            Starts.Enqueue((request.Label, start));
            var fold = request.Label.EndsWith("/f2", StringComparison.Ordinal) ? 2 : 1;
            var lr = FakeEpochs.Lr(request);
            for (var epoch = start; epoch <= request.Epochs; epoch++)
            {
                if (Hold && (fold == 2 || epoch > 1))
                {
                    try
                    {
                        // The "crash" comes first: the silo stops, and its fold (draining) stops this leg at once, as a
                        // real trainer stops at its next step; what the leg does afterwards reaches no one.
                        await _release.Task.WaitAsync(cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    return (TrainingOutcome.Cancelled, null);
                }

                FakeEpochs.Report(request, epoch, 0.3 + (0.05 * epoch) + (0.01 * fold) - (0.02 * Math.Abs(Math.Log10(lr) + 3)), onEpoch);
            }

            return (TrainingOutcome.Completed, null);
        }
    }

    private const string Spec = """
        name: crash
        seed: 5
        dataset: {root: data, folds: [1, 2], image_size: 32}
        training: {epochs: 3, device: cpu}
        search:
          trials: 3
          max_concurrent_trials: 1
          sampler: random
          scheduler: {kind: asha, grace_period: 1, reduction_factor: 2}
          space: {lr: {log_uniform: [1.0e-4, 1.0e-2]} }
        """;

    private static InProcessTestCluster Cluster(string root, string name, GatedTrainer trainer) =>
        FakeTrainerClusters.Build(Path.Combine(root, name), _ => trainer);

    [Fact]
    public async Task A_fold_epoch_reported_before_a_crash_is_neither_trained_nor_reported_again()
    {
        var root = FakeTrainerClusters.DataRoot();

        // The run that never crashes.
        var clean = new GatedTrainer();
        SweepStatus expected;
        await using (var cluster = Cluster(root, "clean", clean))
        {
            await cluster.DeployAsync();
            var sweep = cluster.Client.GetGrain<ISweepGrain>("clean");
            await sweep.StartSpecAsync(Spec, "spec.yaml", root);
            expected = await FakeTrainerClusters.UntilEndedAsync(sweep, TimeSpan.FromMinutes(1));
        }

        // The run that crashes after fold 1 of trial 0 reported epoch 1 and before fold 2 did.
        var first = new GatedTrainer { Hold = true };
        await using (var cluster = Cluster(root, "crashed", first))
        {
            await cluster.DeployAsync();
            var sweep = cluster.Client.GetGrain<ISweepGrain>("crashed");
            await sweep.StartSpecAsync(Spec, "spec.yaml", root);
            await SweepWatch.UntilAsync(sweep, seen => seen.Any(e => e is { Kind: "fold-epoch", Trial: 0, Fold: 1, Epoch: 1 }), TimeSpan.FromMinutes(1),
                "fold 1 never reported epoch 1");

            // Visible means stored: the silo goes away now, with fold 2 of trial 0 still "training" epoch 1.
            Assert.DoesNotContain(await sweep.GetEventsAsync(0), e => e.Kind == "trial-epoch");
        }

        first.Release();
        var second = new GatedTrainer();
        SweepStatus resumed;
        SweepEvent[] events;
        await using (var cluster = Cluster(root, "crashed", second))
        {
            await cluster.DeployAsync();
            var sweep = cluster.Client.GetGrain<ISweepGrain>("crashed");
            await sweep.ResumeAsync();
            resumed = await FakeTrainerClusters.UntilEndedAsync(sweep, TimeSpan.FromMinutes(1));
            events = await sweep.GetEventsAsync(0);
        }

        // The restarted leg (the first start of each of trial 0's folds; later ones are promotions): fold 1 after epoch 1.
        var restarts = second.Starts.Where(s => s.Label.StartsWith("crashed/t000/", StringComparison.Ordinal))
            .GroupBy(s => s.Label).Select(g => g.First()).OrderBy(s => s.Label).ToList();
        Assert.Equal([("crashed/t000/f1", 2), ("crashed/t000/f2", 1)], restarts);

        var foldEpochs = events.Where(e => e.Kind == "fold-epoch").Select(e => (e.Trial, e.Fold, e.Epoch)).ToList();
        Assert.Equal(foldEpochs.Distinct().Count(), foldEpochs.Count);
        Assert.Equal(events.Select(e => e.Sequence), Enumerable.Range(1, events.Length).Select(i => (long)i));

        Assert.Equal(SweepState.Completed, resumed.State);
        Assert.Equal(expected.BestTrial, resumed.BestTrial);
        Assert.Equal(
            expected.Trials.Select(t => (t.Trial, t.State, t.LastEpoch, string.Join(",", t.History), string.Join(",", t.Hyperparameters.Values))),
            resumed.Trials.Select(t => (t.Trial, t.State, t.LastEpoch, string.Join(",", t.History), string.Join(",", t.Hyperparameters.Values))));
        Assert.Equal(expected.Decisions.Select(d => (d.Trial, d.Epoch, d.Kind, d.Value)), resumed.Decisions.Select(d => (d.Trial, d.Epoch, d.Kind, d.Value)));
    }
}
