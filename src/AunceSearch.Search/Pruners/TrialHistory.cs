namespace AunceSearch.Search.Pruners;

/// <summary>What a pruner knows of one trial: its phase, its intermediate values and its successive-halving rung records.</summary>
public sealed class TrialHistory
{
    public TrialPhase Phase { get; set; }

    /// <summary>
    /// Intermediate values by step (NaN allowed). A sorted list, not a tree: steps arrive in order (an append), and a
    /// 100,000-trial sweep holds 100,000 of these (a tree's node per value made the scheduler's state the largest part of
    /// a restored sweep's heap). Its JSON is the same object of step → value.
    /// </summary>
    public SortedList<int, double> Values { get; set; } = [];

    /// <summary>Successive-halving rung records (Optuna's <c>completed_rung_&lt;r&gt;</c>): Rungs[r] = the value recorded at rung r.</summary>
    public List<double> Rungs { get; set; } = [];
}
