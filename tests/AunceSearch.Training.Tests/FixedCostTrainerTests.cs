using AunceSearch.Model;
using AunceSearch.Training.Data;

namespace AunceSearch.Training.Tests;

/// <summary>
/// The fixed-cost trainer (benchmarks): each epoch takes its fixed time, the metric depends only on hyperparameters, fold
/// seed and epoch, it resumes after its checkpoint's epoch, never runs more than its slots at once, and stops when told.
/// </summary>
public sealed class FixedCostTrainerTests
{
    private static FoldTrainingRequest Request(string lr, int epochs, byte[]? resume = null) => new()
    {
        Label = "bench/t000/f1",
        Dataset = new DatasetSource { Root = "unused", Fold = 1 },
        Model = new ModelOptions(),
        Hyperparameters = new Dictionary<string, string> { ["lr"] = lr },
        Epochs = epochs,
        Seed = 1001,
        ResumeFrom = resume,
    };

    private static async Task<List<(EpochResult Result, byte[] Checkpoint)>> Run(FixedCostTrainer trainer, FoldTrainingRequest request, CancellationToken ct = default)
    {
        var epochs = new List<(EpochResult, byte[])>();
        var (outcome, error) = await trainer.RunAsync(request, (r, c) => epochs.Add((r, c)), ct);
        Assert.Null(error);
        Assert.Equal(ct.IsCancellationRequested ? TrainingOutcome.Cancelled : TrainingOutcome.Completed, outcome);
        return epochs;
    }

    [Fact]
    public async Task Each_epoch_takes_its_time_and_the_metric_is_fixed_by_the_hyperparameters()
    {
        var clock = new WaitRecorder();
        using var trainer = new FixedCostTrainer(TimeSpan.FromMilliseconds(50), slots: 1, clock);
        var first = await Run(trainer, Request("0.001", 3));
        Assert.Equal([50.0, 50.0, 50.0], clock.Waits.Select(w => w.TotalMilliseconds));   // each epoch waits its cost (observed, not timed)
        Assert.Equal([1, 2, 3], first.Select(e => e.Result.Epoch));
        Assert.True(first[2].Result.Metrics.MeanF1 > first[0].Result.Metrics.MeanF1);   // it learns

        var again = await Run(trainer, Request("0.001", 3));
        Assert.Equal(first.Select(e => e.Result.Metrics.MeanF1), again.Select(e => e.Result.Metrics.MeanF1));
        var other = await Run(trainer, Request("0.002", 3));
        Assert.NotEqual(first[2].Result.Metrics.MeanF1, other[2].Result.Metrics.MeanF1);
    }

    [Fact]
    public async Task It_resumes_after_its_checkpoint_epoch_with_the_same_metrics()
    {
        using var trainer = new FixedCostTrainer(TimeSpan.FromMilliseconds(1), slots: 1);
        var whole = await Run(trainer, Request("0.003", 4));
        var resumed = await Run(trainer, Request("0.003", 4, resume: whole[1].Checkpoint));
        Assert.Equal([3, 4], resumed.Select(e => e.Result.Epoch));
        Assert.Equal(whole.Skip(2).Select(e => e.Result.Metrics.MeanF1), resumed.Select(e => e.Result.Metrics.MeanF1));
        Assert.Equal(2, Checkpoint.ReadHeader(whole[1].Checkpoint, "test").Epoch);
    }

    [Fact]
    public async Task At_most_its_slots_run_at_once_and_a_cancel_stops_it()
    {
        using var trainer = new FixedCostTrainer(TimeSpan.FromMilliseconds(100), slots: 2);
        var peak = 0;
        using var cancel = new CancellationTokenSource();
        var runs = Enumerable.Range(0, 4).Select(_ => Task.Run(() => trainer.RunAsync(Request("0.001", 2), (_, _) => peak = Math.Max(peak, trainer.Busy), cancel.Token))).ToList();
        await Task.WhenAll(runs);
        Assert.InRange(peak, 1, 2);

        cancel.Cancel();
        var (outcome, _) = await trainer.RunAsync(Request("0.001", 50), (_, _) => { }, cancel.Token);
        Assert.Equal(TrainingOutcome.Cancelled, outcome);
    }

    /// <summary>The system clock, recording every wait it is asked for.</summary>
    private sealed class WaitRecorder : TimeProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<TimeSpan> _waits = new();

        public IReadOnlyList<TimeSpan> Waits => [.. _waits];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _waits.Enqueue(dueTime);
            return System.CreateTimer(callback, state, dueTime, period);
        }
    }
}
