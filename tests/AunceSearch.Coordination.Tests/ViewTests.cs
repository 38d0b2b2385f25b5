using AunceSearch.Bench.Synthetic;
using AunceSearch.Contracts;
using AunceSearch.Spec;

namespace AunceSearch.Coordination.Tests;

/// <summary>
/// The coordinator's read views over a synthetic sweep: pages are sorted and filtered like the whole list would be, the
/// overview counts every trial, points stay bounded and keep the best, and a 100,000-trial sweep answers a page query in
/// well under the dashboard's 200 ms (the ordering is kept between pages).
/// </summary>
public sealed class ViewTests
{
    private const string Id = "views";

    private static string Key(int trial, int fold, int epoch) => $"{Id}/t{trial:D3}/f{fold}/e{epoch:D4}.ckpt";

    internal static SweepDefinition Demo(int epochs = 8) => SweepSpecLoader.Parse($$$"""
        name: views
        seed: 5
        dataset: {root: data, folds: [1, 2, 3], image_size: 32}
        training: {epochs: {{{epochs}}}, device: cpu}
        search:
          trials: 10
          sampler: random
          scheduler: {kind: asha, grace_period: 1, reduction_factor: 2}
          space:
            lr: {log_uniform: [1.0e-4, 1.0e-2]}
            temperature: {log_uniform: [0.03, 0.3]}
            lambda_min: {uniform: [0.8, 1.6]}
            batch_size: {choice: [32, 64, 128]}
            positives: {simplex: [p_max, p_aug, p_mix, p_min], fixed: {p_min: 0}}
        """, "spec.yaml", "/tmp");

    private static SweepCoordinator Synthetic(int trials) => new(Id, Key, SyntheticSweep.Snapshot(Demo(), Id, trials, Key));

    [Fact]
    public void A_page_is_the_slice_of_the_whole_sorted_filtered_list()
    {
        var c = Synthetic(500);
        var all = c.Status(0).Trials;
        var pruned = all.Where(t => t.State == TrialState.Pruned).OrderByDescending(t => t.LastValue).ThenBy(t => t.Trial).ToList();
        Assert.InRange(pruned.Count, 50, 450);   // the synthetic ASHA stops some, not all

        var page = c.Trials(new TrialQuery { Offset = 20, Limit = 30, Sort = TrialSort.Value, Descending = true, State = TrialState.Pruned });
        Assert.Equal(pruned.Count, page.Total);
        Assert.Equal(pruned.Skip(20).Take(30).Select(t => t.Trial), page.Items.Select(r => r.Trial));
        Assert.All(page.Items, r => Assert.Equal(3, r.FoldValues.Length));

        var byLr = c.Trials(new TrialQuery { Limit = 1000, Sort = TrialSort.Parameter, Parameter = "lr" }).Items
            .Select(r => double.Parse(r.Hyperparameters["lr"], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(byLr.Order(), byLr);

        var good = c.Trials(new TrialQuery { Limit = 1000, MinValue = 0.5 });
        Assert.Equal(all.Count(t => t.LastValue >= 0.5), good.Total);
        Assert.All(good.Items, r => Assert.True(r.Value >= 0.5));
    }

    [Fact]
    public void The_overview_counts_every_trial_and_names_the_axes_and_the_simplex()
    {
        var c = Synthetic(300);
        var o = c.Overview(7)!;
        Assert.Equal(300, o.Started);
        Assert.Equal(300, o.TrialsByState.Values.Sum());
        Assert.Equal(SweepState.Completed, o.State);
        Assert.Equal(c.Best()!.Trial, o.BestTrial);
        Assert.Equal(["lr", "temperature", "lambda_min", "batch_size", "p_max", "p_aug", "p_mix"], o.Parameters.Select(p => p.Name));
        Assert.Equal(["p_max", "p_aug", "p_mix"], Assert.Single(o.Simplexes).Free);
        Assert.Equal(7, o.LastEventSequence);
        Assert.Equal(300, o.Decisions);
    }

    [Fact]
    public void Points_are_bounded_keep_the_best_and_code_categories_as_indices()
    {
        var c = Synthetic(2000);
        var p = c.Points(400);
        Assert.Equal(2000, p.Total);
        Assert.Equal(400, p.Shown);
        Assert.Equal(400, p.Points.Select(x => x.Trial).Distinct().Count());
        var best = c.Status(0).Trials.OrderByDescending(t => t.LastValue).ThenBy(t => t.Trial).Take(100).Select(t => t.Trial);
        Assert.Subset(p.Points.Select(x => x.Trial).ToHashSet(), best.ToHashSet());
        var batch = Array.IndexOf(p.Parameters, "batch_size");
        Assert.All(p.Points, x => Assert.Contains(x.Coordinates[batch], new[] { 0.0, 1.0, 2.0 }));
        var simplex = new[] { "p_max", "p_aug", "p_mix" }.Select(n => Array.IndexOf(p.Parameters, n)).ToArray();
        Assert.All(p.Points, x => Assert.Equal(1.0, simplex.Sum(k => x.Coordinates[k]), 6));
        Assert.Equal(2000, c.Points(5000).Shown);
    }

    [Fact]
    public void Bad_queries_are_refused_naming_the_parameter()
    {
        var c = Synthetic(10);
        Assert.Contains("offset", Assert.Throws<ArgumentException>(() => c.Trials(new TrialQuery { Offset = -1 })).Message);
        Assert.Contains("limit", Assert.Throws<ArgumentException>(() => c.Trials(new TrialQuery { Limit = 0 })).Message);
        Assert.Contains("limit", Assert.Throws<ArgumentException>(() => c.Trials(new TrialQuery { Limit = 1001 })).Message);
        Assert.Contains("parameter", Assert.Throws<ArgumentException>(() => c.Trials(new TrialQuery { Sort = TrialSort.Parameter })).Message);
        Assert.Contains("min_value", Assert.Throws<ArgumentException>(() => c.Trials(new TrialQuery { MinValue = double.NaN })).Message);
        Assert.Contains("max", Assert.Throws<ArgumentException>(() => c.Points(0)).Message);
        Assert.Contains("limit", Assert.Throws<ArgumentException>(() => c.DecisionPage(null, 0, 0)).Message);
    }

    [Fact]
    public void A_synthetic_sweep_is_deterministic_and_its_trials_carry_per_au_metrics()
    {
        Assert.Equal(SyntheticSweep.Snapshot(Demo(), Id, 50, Key), SyntheticSweep.Snapshot(Demo(), Id, 50, Key));
        var c = Synthetic(50);
        var t = c.Trial(c.Best()!.Trial)!;
        Assert.Equal(3, t.Trial.LastFolds.Length);
        Assert.Equal(12, t.Trial.LastFolds[0].F1PerAu.Length);
        Assert.Equal(12, t.Trial.LastFolds[0].AllActiveF1PerAu.Length);
        Assert.Equal(TrialState.Completed, t.Trial.State);
        Assert.Contains(t.Decisions, d => d.Kind == "complete");
        Assert.Null(c.Trial(50));
    }

    [Fact]
    public void At_100000_trials_a_page_costs_a_page_once_the_order_is_known()
    {
        // What a page costs in time is measured at 100,000 trials over HTTP (ScaleTests, judged by bench/dashboard);
        // here, that scrolling reuses the one ordering the first page built, and that its pages are slices of it.
        var c = Synthetic(100_000);
        var query = new TrialQuery { Sort = TrialSort.Value, Descending = true, Limit = 60 };
        var top = c.Trials(query);
        Assert.Equal(100_000, top.Total);
        Assert.Equal(1, c.OrderingsBuilt);
        var values = new List<double>();
        for (var offset = 0; offset < 100_000; offset += 10_000)
        {
            var page = c.Trials(query with { Offset = offset });
            Assert.Equal(60, page.Items.Length);
            Assert.Equal(page.Items.Select(i => i.Value ?? double.NegativeInfinity).OrderDescending(), page.Items.Select(i => i.Value ?? double.NegativeInfinity));
            values.Add(page.Items[0].Value ?? double.NegativeInfinity);
        }

        Assert.Equal(1, c.OrderingsBuilt);   // ten pages, no new sort
        Assert.Equal(values.OrderDescending(), values);   // the pages follow one order
        Assert.Equal(top.Items.Select(i => i.Trial), c.Trials(query).Items.Select(i => i.Trial));
        c.Trials(query with { Descending = false });
        Assert.Equal(2, c.OrderingsBuilt);   // another order is built once
    }
}
