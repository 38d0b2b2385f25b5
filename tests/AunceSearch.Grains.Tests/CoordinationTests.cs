using AunceSearch.Contracts;
using AunceSearch.Training;
using Microsoft.Extensions.DependencyInjection;

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

    [Fact]
    public async Task A_sweep_directory_record_another_process_changed_takes_the_change_and_keeps_both()
    {
        // Two `aunce sweep run` at once in one folder: two clusters on one grain-state folder, so one directory record. Here
        // the other process is a second storage instance on the same folder: it lists its sweep after this silo read the
        // record, so this silo's next write (its second sweep's listing) meets a changed record. Before, that write failed
        // and so did the sweep's start.
        var root = FakeTrainerClusters.DataRoot();
        await using var cluster = FakeTrainerClusters.Build(root, _ => new InstantTrainer());
        await cluster.DeployAsync();

        async Task<ISweepGrain> StartAsync(string name)
        {
            var sweep = cluster.Client.GetGrain<ISweepGrain>($"{name}-{Guid.NewGuid():N}");
            await sweep.StartSpecAsync($$"""
                name: {{name}}
                dataset: {root: data, folds: [1], image_size: 32}
                training: {epochs: 2, device: cpu}
                search: {trials: 2, sampler: random, scheduler: {kind: none}, space: {lr: {log_uniform: [1.0e-4, 1.0e-2]} } }
                """, "spec.yaml", root);
            await FakeTrainerClusters.UntilEndedAsync(sweep, TimeSpan.FromMinutes(1));
            return sweep;
        }

        var first = await StartAsync("shared-a");
        var directory = cluster.Client.GetGrain<ISweepDirectoryGrain>(GrainKeys.Directory);
        var quiet = System.Diagnostics.Stopwatch.StartNew();
        while ((await directory.ListRunningAsync()).Length > 0)   // the sweep's end reaches the record just after its status: then the silo writes nothing until the next start
        {
            Assert.True(quiet.Elapsed < TimeSpan.FromSeconds(30), "the first sweep is still listed as running");
            await Task.Delay(20);
        }

        // The file storage keeps no state of its own (a record's ETag travels with the record), so the silo's instance with a
        // record of the test's own is as another process on the same folder.
        var other = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(GrainStorageNames.Sweeps);
        Assert.IsType<Hosting.FileGrainStorage>(other);
        var id = GrainId.Create("sweepdirectory", GrainKeys.Directory);
        var record = new GrainState<SweepDirectoryState>(new SweepDirectoryState());
        await other.ReadStateAsync("sweep-directory", id, record);
        Assert.NotNull(record.State);
        Assert.Contains(record.State.Sweeps, l => l.SweepId == first.GetPrimaryKeyString());   // the record this silo wrote: the test has the right file
        var elsewhere = record.State.Sweeps[0] with { SweepId = "from-another-process" };
        record.State.Sweeps.Add(elsewhere);
        await other.WriteStateAsync("sweep-directory", id, record);

        var second = await StartAsync("shared-a2");   // threw InconsistentStateException before

        var listed = (await directory.ListAsync()).Select(l => l.SweepId).ToList();
        Assert.Equal([first.GetPrimaryKeyString(), "from-another-process", second.GetPrimaryKeyString()], listed);   // nothing overwritten
    }
}
