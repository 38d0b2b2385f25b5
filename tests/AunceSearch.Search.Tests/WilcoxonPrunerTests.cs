using AunceSearch.Model;
using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Tests;

public class WilcoxonPrunerTests
{
    /// <summary>Reference p-values from SciPy 1.10: wilcoxon(d, zero_method="zsplit", alternative="greater").pvalue.</summary>
    [Theory]
    [InlineData(new[] { 0.1, 0.2, 0.3, 0.4, 0.5 }, 0.03125)]                                  // exact
    [InlineData(new[] { 0.3, 0.1, -0.2, 0.4, 0.25, 0.05 }, 0.078125)]                           // exact
    [InlineData(new[] { 0.1, 0.1, 0.0, 0.2, -0.1, 0.3, 0.15 }, 0.036917157580727986)]           // zero and ties: normal approximation
    [InlineData(new[] { 0.5, -0.1, 0.2 }, 0.25)]                                                // exact
    public void P_values_match_scipy(double[] d, double expected)
    {
        Assert.Equal(expected, WilcoxonPruner.OneSidedGreater(d), 6);
    }

    private static Dictionary<int, double> Folds(params double[] v) => v.Select((x, i) => (i + 1, x)).ToDictionary(t => t.Item1, t => t.x);

    [Fact]
    public void A_trial_worse_on_every_fold_is_pruned_once_enough_folds_are_paired()
    {
        var pruner = new WilcoxonPruner(0.1, 2, Direction.Maximize);
        var incumbent = Folds(0.60, 0.62, 0.58, 0.61, 0.59);
        Assert.Equal(DecisionKind.Continue, pruner.Decide(1, 4, Folds(0.50), incumbent).Kind);                  // 1 fold
        Assert.Equal(DecisionKind.Continue, pruner.Decide(1, 4, Folds(0.50, 0.53, 0.46), incumbent).Kind);      // exact p = 1/8 >= 0.1
        var d = pruner.Decide(1, 4, Folds(0.50, 0.53, 0.46, 0.57), incumbent);                                 // exact p = 1/16
        Assert.Equal(DecisionKind.Stop, d.Kind);
        Assert.Equal(0.0625, d.Cutoff!.Value, 12);
        Assert.Contains("p = 0.0625 < 0.1", d.Reason);
    }

    [Fact]
    public void Never_prunes_while_the_mean_is_at_least_as_good_and_without_an_incumbent()
    {
        var pruner = new WilcoxonPruner(0.5, 2, Direction.Maximize);
        var incumbent = Folds(0.60, 0.60, 0.60, 0.60);
        Assert.Equal(DecisionKind.Continue, pruner.Decide(1, 2, Folds(0.59, 0.59, 0.59, 0.70), incumbent).Kind);
        Assert.Equal(DecisionKind.Continue, pruner.Decide(1, 2, Folds(0.1, 0.1, 0.1, 0.1), null).Kind);
        var minimize = new WilcoxonPruner(0.1, 2, Direction.Minimize);
        Assert.Equal(DecisionKind.Stop, minimize.Decide(1, 2, Folds(2, 2, 2, 2), Folds(1, 1.1, 0.9, 1.2)).Kind);
    }
}
