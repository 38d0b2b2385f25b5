using AunceSearch.Contracts;
using AunceSearch.Training;

namespace AunceSearch.Grains.Tests;

/// <summary>
/// The coordination layer alone, through the training seam: folds "train" instantly (a synthetic
/// <see cref="IFoldTrainingRunner"/>), so many trials report at once and the sweep grain's interleaved reports and state
/// writes are what is tested.
/// </summary>
public sealed class CoordinationTests
{
    private sealed class InstantTrainer : IFoldTrainingRunner
    {
        public Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
        {
            var lr = FakeEpochs.Lr(request);
            for (var epoch = FakeEpochs.Start(request); epoch <= request.Epochs; epoch++)
            {
                FakeEpochs.Report(request, epoch, 0.3 + (0.05 * epoch) - (0.02 * Math.Abs(Math.Log10(lr) + 3)), onEpoch);
            }

            return Task.FromResult<(TrainingOutcome, Exception?)>((TrainingOutcome.Completed, null));
        }
    }

    [Fact]
    public async Task Many_concurrent_trials_reporting_at_once_all_finish_with_every_report_persisted()
    {
        var root = FakeTrainerClusters.DataRoot();
        await using var cluster = FakeTrainerClusters.Build(root, _ => new InstantTrainer(), slots: 64);
        await cluster.DeployAsync();
        var sweep = cluster.Client.GetGrain<ISweepGrain>($"many-{Guid.NewGuid():N}");
        await sweep.StartSpecAsync("""
            name: many
            seed: 2
            dataset: {root: data, folds: [1, 2], image_size: 32}
            training: {epochs: 3, device: cpu}
            search:
              trials: 60
              max_concurrent_trials: 32
              sampler: random
              scheduler: {kind: asha, variant: promotion, grace_period: 1, reduction_factor: 2}
              space: {lr: {log_uniform: [1.0e-4, 1.0e-2]} }
            """, "spec.yaml", root);
        var status = await FakeTrainerClusters.UntilEndedAsync(sweep, TimeSpan.FromMinutes(2));

        Assert.Equal(SweepState.Completed, status.State);
        Assert.Equal(60, status.Trials.Length);
        Assert.All(status.Trials, t => Assert.True(t.State is TrialState.Completed or TrialState.Pruned, $"trial {t.Trial} {t.State}: {t.Error}"));
        Assert.Contains(status.Trials, t => t.State == TrialState.Completed && t.LastEpoch == 3);
        Assert.Equal(status.Trials.Sum(t => t.History.Length), status.Trials.Sum(t => t.LastEpoch));   // every epoch reported once
    }
}
