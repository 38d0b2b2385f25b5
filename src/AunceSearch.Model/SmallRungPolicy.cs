namespace AunceSearch.Model;

/// <summary>How ASHA's stopping variant treats a rung with fewer than η entries (the tools disagree there).</summary>
public enum SmallRungPolicy
{
    /// <summary>Ray Tune: an empty rung continues; otherwise compare with the (1−1/η) percentile of the earlier entries.</summary>
    Ray = 0,

    /// <summary>Optuna/Determined: the competitors include the trial itself and it must rank in the top ⌊n/η⌋ (at least the best).</summary>
    Optuna = 1,
}
