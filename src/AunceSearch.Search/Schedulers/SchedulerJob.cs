namespace AunceSearch.Search.Schedulers;

/// <summary>What the coordinator should run next.</summary>
/// <param name="Trial">The trial to run: a new trial's number (0, 1, 2, … in start order) or the paused trial to resume.</param>
/// <param name="IsNew">A new configuration (rather than a promotion).</param>
/// <param name="TargetStep">Train until this step (epoch), then the scheduler decides again.</param>
/// <param name="Decision">The promotion decision with its evidence (null for a new trial).</param>
/// <param name="Source">PBT exploit: the trial whose latest checkpoint this trial continues from.</param>
/// <param name="Config">PBT exploit: the configuration this trial continues with.</param>
/// <param name="FromStep">PBT exploit: the step of <paramref name="Source"/>'s checkpoint to continue from (its step when the decision was taken).</param>
public sealed record SchedulerJob(int Trial, bool IsNew, int TargetStep, SchedulerDecision? Decision,
    int? Source = null, System.Collections.Immutable.ImmutableSortedDictionary<string, string>? Config = null, int? FromStep = null);
