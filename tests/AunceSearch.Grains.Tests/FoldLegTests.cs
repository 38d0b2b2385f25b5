using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using AunceSearch.Model;
using AunceSearch.Training;
using Microsoft.Extensions.Logging.Abstractions;

namespace AunceSearch.Grains.Tests;

/// <summary>
/// A fold's leg on its own, with no cluster: the fixed-cost trainer, a checkpoint folder and a host that records what
/// reaches the trial. What the grain used to do inline is now testable directly.
/// </summary>
public sealed class FoldLegTests
{
    private static FoldAssignment Assignment(int epochs) => new(new TrialAssignment("leg", 3, new Dictionary<string, string> { ["lr"] = "0.001" }, [1], epochs,
        new DatasetOptions { Root = "/nowhere", ListName = "BP4D", ImageSize = 24 }, new ModelOptions { Width = 4, FeatureDim = 8 },
        new TrainingDefinition(epochs, [], [], 10, 0.05, TrainingDevice.Cpu, new AugmentOptions { Mode = AugmentMode.None }), 42, SweepMetric.F1), 1);

    private static (FoldLeg Leg, Host Host, LocalDirectoryCheckpointStore Store) Leg(int epochs, int delivered = 0, Func<FoldEpochReport, Task>? report = null)
    {
        var store = new LocalDirectoryCheckpointStore(Path.Combine(Path.GetTempPath(), "aunce-tests", $"leg-{Guid.NewGuid():N}"));
        var host = new Host(report);
        var leg = new FoldLeg(Assignment(epochs), delivered, host, new FixedCostTrainer(TimeSpan.FromMilliseconds(1), slots: 1), store,
            new CheckpointStoreOptions(), StorageRetry.Default, TimeProvider.System, "silo-a", NullLogger<FoldLeg>.Instance);
        return (leg, host, store);
    }

    [Fact]
    public async Task A_leg_stores_each_epoch_before_reporting_it_and_ends_completed()
    {
        var (leg, host, store) = Leg(epochs: 3);
        var result = await leg.RunAsync(CancellationToken.None);

        Assert.Equal(new FoldLegResult(FoldOutcome.Completed, null, Abandoned: false), result);
        Assert.Equal(3, leg.Delivered);
        Assert.Equal([1, 2, 3], host.Reports.Select(r => r.Epoch));
        foreach (var r in host.Reports)
        {
            var stored = await store.LoadAsync(r.CheckpointKey, CancellationToken.None);
            Assert.NotNull(stored);
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stored)), r.CheckpointSha256);
            Assert.Equal("silo-a", r.Silo);
        }
    }

    [Fact]
    public async Task A_leg_resumes_after_its_delivered_epoch()
    {
        var (first, _, store) = Leg(epochs: 2);
        await first.RunAsync(CancellationToken.None);
        var host = new Host(null);
        var again = new FoldLeg(Assignment(4), delivered: 2, host, new FixedCostTrainer(TimeSpan.FromMilliseconds(1), slots: 1), store,
            new CheckpointStoreOptions(), StorageRetry.Default, TimeProvider.System, "silo-a", NullLogger<FoldLeg>.Instance);
        Assert.Equal(FoldOutcome.Completed, (await again.RunAsync(CancellationToken.None)).Outcome);
        Assert.Equal([3, 4], host.Reports.Select(r => r.Epoch));   // epochs 1-2 came from the stored checkpoint
    }

    [Fact]
    public async Task A_trial_out_of_reach_abandons_the_leg_without_an_end_and_stops_its_training()
    {
        var (leg, host, _) = Leg(epochs: 50, report: r => r.Epoch == 2 ? throw new TimeoutException("the trial's silo is gone") : Task.CompletedTask);
        var result = await leg.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.Abandoned);
        Assert.Equal(1, leg.Delivered);   // the next leg resumes after the last epoch the trial heard of
        Assert.Equal([1, 2], host.Reports.Select(r => r.Epoch));
    }

    private sealed class Host(Func<FoldEpochReport, Task>? report) : IFoldLegHost
    {
        public List<FoldEpochReport> Reports { get; } = [];

        public string Label => "leg/t003/f1";

        public bool Draining => false;

        public Task ReportAsync(FoldEpochReport r)
        {
            Reports.Add(r);
            return report?.Invoke(r) ?? Task.CompletedTask;
        }
    }
}
