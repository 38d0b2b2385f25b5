namespace AunceSearch.Contracts;

/// <summary>Lifecycle of a sweep.</summary>
public enum SweepState
{
    Pending = 0,
    Running = 1,
    Completed = 2,
    Failed = 3,
    Cancelled = 4,
}

/// <summary>Lifecycle of a trial (one configuration, all of its folds).</summary>
public enum TrialState
{
    Pending = 0,
    Running = 1,
    Completed = 2,
    Pruned = 3,
    Failed = 4,

    /// <summary>Waiting at a rung for promotion (promotion ASHA, synchronous Hyperband).</summary>
    Paused = 5,
}

/// <summary>What a trial must do after reporting an epoch.</summary>
public enum TrialDirective
{
    Continue = 0,
    Stop = 1,
    Complete = 2,

    /// <summary>The trial reached its rung: let the folds finish this leg and wait for promotion.</summary>
    Pause = 3,
}
