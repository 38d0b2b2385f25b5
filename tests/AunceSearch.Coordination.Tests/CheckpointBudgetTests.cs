using AunceSearch.Contracts;
using AunceSearch.Spec;

namespace AunceSearch.Coordination.Tests;

/// <summary>The checkpoint bytes a sweep can hold at its peak, from its definition alone, and the verdict against a store's free space.</summary>
public sealed class CheckpointBudgetTests
{
    private const long Mb300 = 300L * 1024 * 1024;

    private static SweepDefinition Definition(string scheduler, string checkpoints = "", int trials = 100, int concurrent = 8) =>
        SweepSpecLoader.Parse($$$"""
            name: budget
            seed: 1
            dataset: {root: data, folds: [1, 2, 3], image_size: 32, split: subjects, split_folds: 3, format: table, labels: labels.csv}
            model: {encoder: resnet50, feature_dim: 32}
            training: {epochs: 20, device: cpu}
            search:
              trials: {{{trials}}}
              max_concurrent_trials: {{{concurrent}}}
              scheduler: {{{scheduler}}}
              space: {lr: {log_uniform: [1.0e-4, 1.0e-2]}}
            {{{checkpoints}}}
            """, "budget.yaml", Path.GetTempPath());

    [Fact]
    public void Keeping_everything_counts_every_fold_epoch_of_every_trial()
    {
        // The example: 100 trials x 3 folds x 20 epochs of a 300 MB ResNet-50 checkpoint is about 1.8 TB.
        var e = CheckpointBudget.Estimate(Definition("{kind: none}", "checkpoints: {keep: all}"), Mb300);
        Assert.Equal(6000, e.Checkpoints);
        Assert.Equal(6000 * Mb300, e.PeakBytes);
        Assert.Equal("checkpoints: up to 6000 x 300 MiB = 1.72 TiB at the peak (keep: all — 100 trials x 3 folds x 20 epochs)", e.Describe());
    }

    [Fact]
    public void Best_k_counts_the_k_best_and_the_two_latest_epochs_of_each_running_trial()
    {
        var e = CheckpointBudget.Estimate(Definition("{kind: asha, variant: stopping}"), Mb300);   // best-k 3 is the default
        Assert.Equal((3 * 3) + (8 * 3 * 2), e.Checkpoints);
        Assert.Contains("3 best trials x 3 folds x 1 epoch + 8 running trials x 3 folds x 2 epochs", e.Basis);
        Assert.Equal((1 * 3) + (8 * 3 * 2), CheckpointBudget.Estimate(Definition("{kind: none}", "checkpoints: {keep: best-k, k: 1}"), Mb300).Checkpoints);
    }

    [Theory]
    [InlineData("{kind: asha, variant: promotion}")]
    [InlineData("{kind: hyperband_sync, min_resource: 1, reduction_factor: 2}")]
    public void Promotion_schedulers_keep_every_paused_trials_two_latest_epochs(string scheduler)
    {
        var e = CheckpointBudget.Estimate(Definition(scheduler), Mb300);
        Assert.Equal((3 * 3) + (100 * 3 * 2), e.Checkpoints);
        Assert.Contains("100 running or paused trials", e.Basis);
    }

    [Fact]
    public void Pbt_keeps_every_epoch_of_its_running_trials()
    {
        var e = CheckpointBudget.Estimate(Definition("{kind: pbt, perturbation_interval: 2}", trials: 16, concurrent: 16), Mb300);
        Assert.Equal((3 * 3) + (16 * 3 * 20), e.Checkpoints);
    }

    [Fact]
    public void Small_sweeps_count_no_more_trials_or_epochs_than_they_have()
    {
        var e = CheckpointBudget.Estimate(Definition("{kind: none}", trials: 2, concurrent: 8), 1000);
        Assert.Equal((2 * 3) + (2 * 3 * 2), e.Checkpoints);
    }

    [Fact]
    public void The_verdict_refuses_a_peak_over_the_free_space_and_warns_over_half_of_it()
    {
        var e = new CheckpointEstimate(Mb300, 10, "test");
        var (problem, warning) = CheckpointBudget.Judge(e, 10 * Mb300 - 1, "the checkpoint store /x");
        Assert.Null(warning);
        Assert.Contains("but the checkpoint store /x has 2.93 GiB free", problem);
        (problem, warning) = CheckpointBudget.Judge(e, 10 * Mb300, "store");
        Assert.Null(problem);
        Assert.Contains("more than half", warning);
        Assert.Equal((null, null), CheckpointBudget.Judge(e, 20 * Mb300, "store"));
        Assert.Equal((null, null), CheckpointBudget.Judge(e, null, "blob"));   // a store that cannot say how much room it has
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(320_000_000, "305 MiB")]
    [InlineData(1L << 40, "1 TiB")]
    public void Bytes_are_shown_in_binary_units(long bytes, string shown) => Assert.Equal(shown, CheckpointEstimate.Bytes(bytes));
}
