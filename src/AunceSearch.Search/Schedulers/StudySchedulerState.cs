namespace AunceSearch.Search.Schedulers;

/// <summary>The state of schedulers that decide from each trial's history alone: FIFO and the pruners (median, percentile, successive halving, Hyperband, median stopping).</summary>
public sealed class StudySchedulerState : SchedulerState;
