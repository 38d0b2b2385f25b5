using AunceSearch.Contracts;
using AunceSearch.Tests;
using AunceSearch.Training;

namespace AunceSearch.Grains.Tests;

/// <summary>
/// A trainer silo stops (drains) or is killed while the sweep lives on: its folds are gone without a word to their trial.
/// The sweep watches the cluster's membership: once the silo is declared dead it re-drives its running trials, and the folds
/// train again on the trainer that is left, after their last stored epochs — well before the minute's reminder would.
/// </summary>
public sealed class RedriveTests
{
    /// <summary>Fold epochs "train" at once, except on the doomed silo, where each fold finishes epoch 1 and then hangs.</summary>
    private sealed class Trainer(bool doomed) : IFoldTrainingRunner
    {
        public static readonly System.Collections.Concurrent.ConcurrentQueue<(string Label, int Start, bool Doomed)> Starts = new();

        /// <summary>Labels of folds whose training was stopped (the silo drained them).</summary>
        public static readonly System.Collections.Concurrent.ConcurrentQueue<string> Stopped = new();

        public async Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
        {
            var start = FakeEpochs.Start(request);
            Starts.Enqueue((request.Label, start, doomed));
            for (var epoch = start; epoch <= request.Epochs; epoch++)
            {
                if (doomed && epoch > 1)
                {
                    try
                    {
                        await Task.Delay(Timeout.Infinite, cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        Stopped.Enqueue(request.Label);
                        return (TrainingOutcome.Cancelled, null);
                    }
                }

                FakeEpochs.Report(request, epoch, 0.3 + (0.05 * epoch), onEpoch);
            }

            return (TrainingOutcome.Completed, null);
        }
    }

    [Theory]
    [InlineData("stopped")]
    [InlineData("killed")]
    public async Task Folds_lost_with_their_silo_train_again_after_their_last_stored_epoch(string how)
    {
        var root = FakeTrainerClusters.DataRoot();

        // Silo_0 coordinates and never trains; Silo_1 trains and will be stopped or killed; a silo added later trains.
        await using var cluster = FakeTrainerClusters.Build(root, silo => new Trainer(doomed: silo == "Silo_1"), silos: 2, coordinates: silo => silo == "Silo_0");
        await cluster.DeployAsync();
        var id = $"redrive-{how}-{Guid.NewGuid():N}";
        var sweep = cluster.Client.GetGrain<ISweepGrain>(id);
        await sweep.StartSpecAsync("""
            name: redrive
            seed: 4
            dataset: {root: data, folds: [1, 2], image_size: 32}
            training: {epochs: 3, device: cpu}
            search:
              trials: 2
              max_concurrent_trials: 2
              sampler: random
              scheduler: {kind: none}
              space: {lr: {log_uniform: [1.0e-4, 1.0e-2]} }
            """, "spec.yaml", root);

        // Every fold has stored epoch 1 (the trials have reported it) and hangs in epoch 2 on Silo_1.
        await SweepWatch.UntilAsync(sweep, seen => seen.Where(e => e is { Kind: "trial-epoch", Epoch: 1 }).Select(e => e.Trial).Distinct().Count() == 2,
            TimeSpan.FromMinutes(1), "the trials never reported epoch 1");

        var doomed = cluster.Silos.Single(s => s.Name == "Silo_1");
        await cluster.StartAdditionalSiloAsync();
        var lost = System.Diagnostics.Stopwatch.StartNew();
        if (how == "killed")
        {
            await cluster.KillSiloAsync(doomed);   // no drain: the membership probes find out (about 5-8 s with the default tuning)
        }
        else
        {
            await cluster.StopSiloAsync(doomed);
            Assert.Equal(4, Trainer.Stopped.Count(l => l.StartsWith(id, StringComparison.Ordinal)));   // it drained its folds, nothing reported
        }

        // No manual re-drive, and well inside the reminder's first minute: the sweep's membership watch re-drives on its own.
        var status = await FakeTrainerClusters.UntilEndedAsync(sweep, TimeSpan.FromSeconds(25));
        var recovered = lost.Elapsed;

        Assert.Equal(SweepState.Completed, status.State);
        Assert.All(status.Trials, t => Assert.Equal((TrialState.Completed, 3), (t.State, t.LastEpoch)));
        var restarts = Trainer.Starts.Where(s => s.Label.StartsWith(id, StringComparison.Ordinal) && !s.Doomed).ToList();
        Assert.Equal(4, restarts.Count);                  // each fold of each trial once, on the new trainer
        Assert.All(restarts, r => Assert.Equal(2, r.Start));   // after epoch 1, which was stored, not from scratch
        Console.WriteLine($"RedriveTests: silo {how}; the sweep completed {recovered.TotalSeconds:0.0} s later");
    }
}
