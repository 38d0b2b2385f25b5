using System.Collections.Concurrent;
using System.Diagnostics;
using AunceSearch.Contracts;
using AunceSearch.Training;
using Microsoft.Extensions.DependencyInjection;

namespace AunceSearch.Grains.Tests;

/// <summary>
/// Folds go through the cluster's slot director: with no trainer they wait (and the director says why) instead of failing;
/// a trainer that joins takes them within 5 s; no device ever runs more folds than its slots, and each fold trains on the
/// device its lease names; two sweeps on a full cluster share the slots.
/// </summary>
public sealed class SlotPlacementTests
{
    /// <summary>Each fold epoch takes <see cref="EpochTime"/>; records where each fold started and how many ran at once per device.</summary>
    private sealed class Trainer(string silo) : IFoldTrainingRunner
    {
        public static readonly TimeSpan EpochTime = TimeSpan.FromMilliseconds(150);

        public static readonly ConcurrentQueue<(string Label, string Silo, int Device, long At)> Starts = new();

        private static readonly ConcurrentBag<(string Prefix, TaskCompletionSource Started)> Waiters = [];

        /// <summary>Completes when a fold whose label starts with <paramref name="prefix"/> starts training (at once if one has).</summary>
        public static Task FirstStart(string prefix)
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Waiters.Add((prefix, started));
            if (Starts.Any(s => s.Label.StartsWith(prefix, StringComparison.Ordinal)))
            {
                started.TrySetResult();
            }

            return started.Task;
        }

        private static readonly ConcurrentDictionary<(string Silo, int Device), int> Running = new();

        /// <summary>The most folds seen training at once on each device.</summary>
        public static readonly ConcurrentDictionary<(string Silo, int Device), int> Peak = new();

        public async Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
        {
            var key = (silo, request.DeviceIndex);
            var now = Running.AddOrUpdate(key, 1, (_, n) => n + 1);
            Peak.AddOrUpdate(key, now, (_, p) => Math.Max(p, now));
            Starts.Enqueue((request.Label, silo, request.DeviceIndex, Stopwatch.GetTimestamp()));
            foreach (var (prefix, started) in Waiters.Where(w => request.Label.StartsWith(w.Prefix, StringComparison.Ordinal)))
            {
                started.TrySetResult();
            }
            try
            {
                for (var epoch = FakeEpochs.Start(request); epoch <= request.Epochs; epoch++)
                {
                    await Task.Delay(EpochTime, cancellationToken);
                    FakeEpochs.Report(request, epoch, 0.3 + (0.01 * epoch), onEpoch);
                }

                return (TrainingOutcome.Completed, null);
            }
            catch (OperationCanceledException)
            {
                return (TrainingOutcome.Cancelled, null);
            }
            finally
            {
                Running.AddOrUpdate(key, 0, (_, n) => n - 1);
            }
        }
    }

    private static string Spec(int trials, int epochs) => $$"""
        name: slots
        seed: 9
        dataset: {root: data, folds: [1, 2], image_size: 32}
        training: {epochs: {{epochs}}, device: cpu}
        search:
          trials: {{trials}}
          max_concurrent_trials: {{trials}}
          sampler: random
          scheduler: {kind: none}
          space: {lr: {log_uniform: [1.0e-4, 1.0e-2]} }
        """;

    /// <summary>Silo_0 only coordinates; every silo added later trains on two one-slot "GPUs".</summary>
    private static Orleans.TestingHost.InProcessTestCluster Cluster(string root) =>
        FakeTrainerClusters.Build(root, silo => new Trainer(silo), silos: 1, coordinates: silo => silo == "Silo_0",
            replace: services => services.AddSingleton(new TrainerDevices([new SlotDevice(0, "cuda", 1L << 30, 1), new SlotDevice(1, "cuda", 1L << 30, 1)])));

    private static async Task<SlotStatus> UntilAsync(ISlotDirectorGrain director, Func<SlotStatus, bool> done, string what)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var status = await director.GetStatusAsync();
            if (done(status))
            {
                return status;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"{what}: still {status.Queued} queued, {status.Busy}/{status.Total} busy, {status.Trainers.Length} trainers");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Folds_wait_for_a_trainer_and_start_on_its_devices_within_5_s_of_it_joining()
    {
        var root = FakeTrainerClusters.DataRoot();
        await using var cluster = Cluster(root);
        await cluster.DeployAsync();
        var id = $"slots-join-{Guid.NewGuid():N}";
        var sweep = cluster.Client.GetGrain<ISweepGrain>(id);
        var director = cluster.Client.GetGrain<ISlotDirectorGrain>(GrainKeys.SlotDirector);
        await sweep.StartSpecAsync(Spec(trials: 3, epochs: 2), "spec.yaml", root);

        // No trainer: all six folds wait (no call failed), and the director says why.
        var waiting = await UntilAsync(director, s => s.QueuedFor(id) == 6, "the folds never queued");
        Assert.Contains("no trainer silo has joined the cluster", waiting.Waiting);

        // Quiet (every fold waits): the sweep's event stream beats instead of sending events.
        var last = (await sweep.GetEventsAsync(0)).Select(e => e.Sequence).DefaultIfEmpty(0).Max();
        var beaten = false;
        using (var beat = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            await foreach (var batch in sweep.FollowAsync(last, TimeSpan.FromMilliseconds(50), beat.Token))
            {
                if (batch.Length == 0)
                {
                    beaten = true;   // a heartbeat within 10 s (else OperationCanceledException)
                    break;
                }
            }
        }

        Assert.True(beaten, "the event stream ended instead of beating while the sweep waits");
        Assert.Empty(waiting.Trainers);
        Assert.Equal(SweepState.Running, (await sweep.GetStatusAsync()).State);
        Assert.DoesNotContain(Trainer.Starts, s => s.Label.StartsWith(id, StringComparison.Ordinal));

        var firstFold = Trainer.FirstStart(id);
        var joining = Stopwatch.GetTimestamp();
        var trainer = await cluster.StartAdditionalSiloAsync();
        await firstFold.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(t => Assert.True(t.IsCompletedSuccessfully, "no fold started on the trainer that joined within 10 s"),
            TaskScheduler.Default);

        var firstStart = Trainer.Starts.Where(s => s.Label.StartsWith(id, StringComparison.Ordinal)).Min(s => s.At);
        var toFirstFold = Stopwatch.GetElapsedTime(joining, firstStart);
        Assert.True(toFirstFold < TimeSpan.FromSeconds(5), $"the first fold started {toFirstFold.TotalSeconds:0.0} s after the trainer began joining");

        var status = await FakeTrainerClusters.UntilEndedAsync(sweep, TimeSpan.FromSeconds(60));
        Assert.Equal(SweepState.Completed, status.State);
        Assert.All(status.Trials, t => Assert.Equal((TrialState.Completed, 2), (t.State, t.LastEpoch)));

        // Never more than one fold per one-slot device, both devices used, every fold on the trainer that joined.
        var starts = Trainer.Starts.Where(s => s.Label.StartsWith(id, StringComparison.Ordinal)).ToList();
        Assert.Equal(6, starts.Count);
        Assert.All(starts, s => Assert.Equal(trainer.Name, s.Silo));
        Assert.Equal([0, 1], starts.Select(s => s.Device).Distinct().Order());
        Assert.All(Trainer.Peak.Where(p => p.Key.Silo == trainer.Name), p => Assert.Equal(1, p.Value));
        var after = await UntilAsync(director, s => s.Busy == 0, "slots still held after the sweep ended");
        Assert.Equal(2, after.Total);
        Console.WriteLine($"SlotPlacementTests: first fold {toFirstFold.TotalSeconds:0.00} s after a trainer began joining");
    }

    [Fact]
    public async Task Two_sweeps_waiting_for_the_same_slots_take_turns()
    {
        var root = FakeTrainerClusters.DataRoot();
        await using var cluster = Cluster(root);
        await cluster.DeployAsync();
        var director = cluster.Client.GetGrain<ISlotDirectorGrain>(GrainKeys.SlotDirector);
        var first = $"slots-a-{Guid.NewGuid():N}";
        var second = $"slots-b-{Guid.NewGuid():N}";

        // The first sweep queues eight folds before the second queues its eight: with no fairness it would take every slot
        // until it drained.
        await cluster.Client.GetGrain<ISweepGrain>(first).StartSpecAsync(Spec(trials: 4, epochs: 1), "spec.yaml", root);
        await UntilAsync(director, s => s.QueuedFor(first) == 8, "the first sweep's folds never queued");
        await cluster.Client.GetGrain<ISweepGrain>(second).StartSpecAsync(Spec(trials: 4, epochs: 1), "spec.yaml", root);
        await UntilAsync(director, s => s.QueuedFor(second) == 8, "the second sweep's folds never queued");

        await cluster.StartAdditionalSiloAsync();
        foreach (var id in new[] { first, second })
        {
            Assert.Equal(SweepState.Completed, (await FakeTrainerClusters.UntilEndedAsync(cluster.Client.GetGrain<ISweepGrain>(id), TimeSpan.FromSeconds(60))).State);
        }

        // While both had folds waiting, the starts alternated: after any prefix of the first 12 starts neither sweep is
        // more than two ahead (two slots free up together at most).
        var order = Trainer.Starts.Where(s => s.Label.StartsWith(first, StringComparison.Ordinal) || s.Label.StartsWith(second, StringComparison.Ordinal))
            .OrderBy(s => s.At).Select(s => s.Label.StartsWith(first, StringComparison.Ordinal) ? 'a' : 'b').ToList();
        Assert.Equal(16, order.Count);
        for (var n = 1; n <= 12; n++)
        {
            var lead = order.Take(n).Count(c => c == 'a') - order.Take(n).Count(c => c == 'b');
            Assert.True(Math.Abs(lead) <= 2, $"after {n} starts ({new string([.. order])}) one sweep was {Math.Abs(lead)} ahead");
        }
    }
}
