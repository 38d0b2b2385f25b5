using AunceSearch.Contracts;
using AunceSearch.Hosting;
using AunceSearch.Spec;
using AunceSearch.Training;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace AunceSearch.Grains.Tests;

/// <summary>
/// A sweep's status never runs ahead of its stored events. The sweep grain is reentrant, so a status request can arrive
/// while a journal write is in flight; answered from the coordinator's memory, it said "cancelled" while the cancel's
/// event was not yet visible, and a follower that saw it stopped short of that event (a SignalTests failure under load).
/// </summary>
public sealed class StatusDurabilityTests
{
    /// <summary>Grain storage whose journal writes can be held: the test sees a write start and decides when it ends.</summary>
    private sealed class GatedStorage(IGrainStorage inner) : IGrainStorage
    {
        private TaskCompletionSource? _release;
        private TaskCompletionSource? _held;

        public TaskCompletionSource WriteStarted { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void HoldNextJournalWrite()
        {
            WriteStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _release = _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public void Release() => _held?.TrySetResult();

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (stateName == "sweep-log" && Interlocked.Exchange(ref _release, null) is { } release)
            {
                WriteStarted.TrySetResult();
                await release.Task;
            }

            await inner.WriteStateAsync(stateName, grainId, grainState);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }

    /// <summary>Folds that never finish an epoch: the sweep stays running until it is cancelled.</summary>
    private sealed class IdleTrainer : IFoldTrainingRunner
    {
        public async Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, CancellationToken.None);
            return (TrainingOutcome.Cancelled, null);
        }
    }

    [Fact]
    public async Task A_status_asked_during_a_journal_write_waits_for_it_so_its_state_never_precedes_its_events()
    {
        var dir = FakeTrainerClusters.DataRoot();
        GatedStorage? gated = null;
        await using var cluster = FakeTrainerClusters.Build(dir, _ => new IdleTrainer(), slots: 2, replace: services => services.AddKeyedSingleton<IGrainStorage>(GrainStorageNames.Sweeps,
            (sp, _) => gated = new GatedStorage(new FileGrainStorage(GrainStorageNames.Sweeps, Path.Combine(dir, "state"), new JsonStorageSerializer()))));
        await cluster.DeployAsync();

        var sweep = cluster.Client.GetGrain<ISweepGrain>($"status-{Guid.NewGuid():N}");
        await sweep.StartAsync(SweepSpecLoader.Parse("""
            name: status
            dataset: {root: data, folds: [1], image_size: 32}
            training: {epochs: 3, device: cpu}
            search: {trials: 1, sampler: random, scheduler: {kind: none}, space: {lr: {log_uniform: [1.0e-4, 1.0e-2]}}}
            """, "spec.yaml", dir));
        Assert.Equal(SweepState.Running, (await sweep.GetStatusAsync()).State);

        gated!.HoldNextJournalWrite();
        var cancel = sweep.CancelAsync();            // applied at once, stored when the held write ends
        await gated.WriteStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var status = sweep.GetStatusAsync();         // asked while the cancel's entry is being written
        gated.Release();
        await cancel;
        var answer = await status;

        var events = await sweep.GetEventsAsync(0);
        if (answer.State == SweepState.Cancelled)
        {
            Assert.Contains(events, e => e.Message == "sweep cancelled" && e.Sequence <= answer.LastEventSequence);
        }

        Assert.Equal(SweepState.Cancelled, (await sweep.GetStatusAsync()).State);
    }
}
