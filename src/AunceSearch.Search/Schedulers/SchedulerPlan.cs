namespace AunceSearch.Search.Schedulers;

/// <summary>
/// What a scheduler does when capacity frees up: the job to run (or none), and every decision it took on the way about
/// other trials (e.g. the trials a synchronous Hyperband rung stopped), for whoever applies them to record and carry out.
/// </summary>
public sealed record SchedulerPlan(SchedulerJob? Job, IReadOnlyList<SchedulerDecision> Decisions)
{
    /// <summary>Nothing to run and nothing decided.</summary>
    public static SchedulerPlan Idle { get; } = new(null, []);

    /// <summary>A job (or none) with no decisions about other trials.</summary>
    public static SchedulerPlan Run(SchedulerJob? job) => job is null ? Idle : new(job, []);
}
