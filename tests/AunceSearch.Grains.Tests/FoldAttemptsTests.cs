using System.Collections.Concurrent;
using AunceSearch.Contracts;
using AunceSearch.Training;

namespace AunceSearch.Grains.Tests;

/// <summary>
/// A fold whose own training fails (here: diverges in epoch 2) is tried again from its latest stored checkpoint, up to
/// <c>training.max_attempts</c> in all; then its trial fails with the reason and the attempts in its decision, and the sweep
/// goes on with the other trials.
/// </summary>
public sealed class FoldAttemptsTests
{
    /// <summary>Trial 0's folds diverge in epoch 2 on their first <paramref name="failures"/> attempts; everything else trains.</summary>
    private sealed class Trainer(int failures) : IFoldTrainingRunner
    {
        public readonly ConcurrentQueue<(string Label, int Start)> Starts = new();
        private readonly ConcurrentDictionary<string, int> _failed = new();

        public Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
        {
            var start = FakeEpochs.Start(request);
            Starts.Enqueue((request.Label, start));
            for (var epoch = start; epoch <= request.Epochs; epoch++)
            {
                if (epoch == 2 && request.Label.Contains("/t000/", StringComparison.Ordinal) && _failed.AddOrUpdate(request.Label, 1, (_, n) => n + 1) <= failures)
                {
                    return Task.FromResult<(TrainingOutcome, Exception?)>((TrainingOutcome.Failed, new TrainingDivergedException("loss became NaN at epoch 2, step 1")));
                }

                FakeEpochs.Report(request, epoch, 0.3 + (0.05 * epoch), onEpoch);
            }

            return Task.FromResult<(TrainingOutcome, Exception?)>((TrainingOutcome.Completed, null));
        }
    }

    [Theory]
    [InlineData(2, 1, "completed")]   // one failure, a second attempt from epoch 1's checkpoint completes the trial
    [InlineData(2, 5, "failed")]      // every attempt fails: the trial fails after 2
    [InlineData(1, 5, "failed")]      // max_attempts: 1, no second attempt
    public async Task A_fold_that_fails_on_its_own_is_tried_again_from_its_checkpoint_up_to_max_attempts(int maxAttempts, int failures, string expected)
    {
        var root = FakeTrainerClusters.DataRoot();
        var trainer = new Trainer(failures);
        await using var cluster = FakeTrainerClusters.Build(root, _ => trainer);
        await cluster.DeployAsync();
        var sweep = cluster.Client.GetGrain<ISweepGrain>($"attempts-{Guid.NewGuid():N}");
        await sweep.StartSpecAsync($$"""
            name: attempts
            seed: 3
            dataset: {root: data, folds: [1, 2], image_size: 32}
            training: {epochs: 3, device: cpu, max_attempts: {{maxAttempts}}}
            search:
              trials: 2
              max_concurrent_trials: 1
              sampler: random
              scheduler: {kind: none}
              space: {lr: {log_uniform: [1.0e-4, 1.0e-2]} }
            """, "spec.yaml", root);
        var status = await FakeTrainerClusters.UntilEndedAsync(sweep, TimeSpan.FromMinutes(1));

        Assert.Equal(SweepState.Completed, status.State);
        var t0 = status.Trials.Single(t => t.Trial == 0);
        var t1 = status.Trials.Single(t => t.Trial == 1);
        Assert.Equal((TrialState.Completed, 3), (t1.State, t1.LastEpoch));   // the sweep went on
        int[] Starts(int fold) => [.. trainer.Starts.Where(s => s.Label.EndsWith($"/t000/f{fold}", StringComparison.Ordinal)).Select(s => s.Start)];
        if (expected == "completed")
        {
            Assert.Equal((TrialState.Completed, 3), (t0.State, t0.LastEpoch));
            Assert.All(new[] { 1, 2 }, f => Assert.Equal([1, 2], Starts(f)));   // each retry resumed after epoch 1, not from scratch
        }
        else
        {
            Assert.Equal(TrialState.Failed, t0.State);

            // The fold that failed first used every attempt, each after epoch 1; its sibling may have been stopped sooner.
            int[] all = [1, .. Enumerable.Repeat(2, maxAttempts - 1)];
            Assert.Contains(new[] { 1, 2 }, f => Starts(f).SequenceEqual(all));
            Assert.All(new[] { 1, 2 }, f => Assert.Equal(all[..Starts(f).Length], Starts(f)));
            Assert.Contains("diverged: loss became NaN at epoch 2, step 1", t0.Error);
            if (maxAttempts > 1)
            {
                Assert.Contains($"(failed {maxAttempts} of {maxAttempts} attempts)", t0.Error);
            }
            else
            {
                Assert.DoesNotContain("attempts", t0.Error);
            }

            Assert.Contains(await sweep.GetEventsAsync(0), e => e.Kind == "trial" && e.Trial == 0 && e.Message.Contains("diverged", StringComparison.Ordinal));
        }
    }
}
