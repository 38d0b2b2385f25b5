namespace AunceSearch.Contracts;

/// <summary>
/// The coordinator of one sweep (key: the sweep id). It proposes configurations, starts trials, decides on every
/// fold-averaged report (prune or continue) and keeps the leaderboard and a progress log.
/// </summary>
[Alias("aunce.sweep-grain")]
public interface ISweepGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the sweep (idempotent: the same definition again changes nothing). An invalid definition is an
    /// <see cref="ArgumentException"/>; a different definition under an existing id an <see cref="InvalidOperationException"/>
    /// naming the first difference. Neither changes anything.
    /// </summary>
    Task<SweepStatus> StartAsync(SweepDefinition definition);

    /// <summary>
    /// The sweep in full. This and the other views wait until every input applied so far is stored (a view never runs
    /// ahead of storage); <paramref name="cancellationToken"/> stops the wait (a caller that went away), not the writes.
    /// </summary>
    Task<SweepStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>The sweep at a glance (no trial list), or null when no sweep has this id.</summary>
    Task<SweepOverview?> GetOverviewAsync(CancellationToken cancellationToken = default);

    /// <summary>A sorted, filtered page of trials (an invalid query is an <see cref="ArgumentException"/>).</summary>
    Task<TrialPage> GetTrialsAsync(TrialQuery query, CancellationToken cancellationToken = default);

    /// <summary>One trial in full with the decisions about it, or null when there is no such trial.</summary>
    Task<TrialDetail?> GetTrialAsync(int trial, CancellationToken cancellationToken = default);

    /// <summary>A page of the scheduler's decisions, optionally about one trial.</summary>
    Task<DecisionPage> GetDecisionsAsync(int? trial, int offset, int limit, CancellationToken cancellationToken = default);

    /// <summary>At most <paramref name="max"/> trials as points in parameter space (the best and an even sample of the rest).</summary>
    Task<ParameterPoints> GetPointsAsync(int max, CancellationToken cancellationToken = default);

    /// <summary>Parameter importance (PED-ANOVA) over completed trials, or over every trial's value at <paramref name="epoch"/>; null when the sweep never started.</summary>
    Task<ImportanceReport?> GetImportanceAsync(int? epoch, double quantile, bool local, CancellationToken cancellationToken = default);

    /// <summary>Progress events with a sequence number greater than <paramref name="afterSequence"/> (those stored so far).</summary>
    Task<SweepEvent[]> GetEventsAsync(long afterSequence);

    /// <summary>
    /// The sweep's progress events after <paramref name="afterSequence"/>, in batches as they are stored, and an empty batch
    /// whenever <paramref name="heartbeat"/> passes without one (a follower's chance to do its periodic work). The stream
    /// ends once the sweep has ended and its every event has been sent. Throws <see cref="KeyNotFoundException"/> when no
    /// sweep has this id. A follower whose stream breaks (the coordinator's silo died) opens a new one after its last event.
    /// </summary>
    IAsyncEnumerable<SweepEvent[]> WatchEventsAsync(long afterSequence, TimeSpan heartbeat, CancellationToken cancellationToken = default);

    /// <summary>A trial's fold-averaged metric at an epoch; returns what the trial must do.</summary>
    Task<TrialDirective> ReportAsync(TrialEpochReport report);

    /// <summary>
    /// Some but not all folds of a trial finished an epoch (<paramref name="report"/> holds those folds): Stop when the
    /// sweep prunes on partial folds and the fold-bound rule stops the trial, else Continue.
    /// </summary>
    Task<TrialDirective> ReportPartialAsync(TrialEpochReport report, int totalFolds);

    /// <summary>A fold finished an epoch: stored before this returns (a restarted leg does not train that fold epoch again).</summary>
    Task OnFoldEpochAsync(FoldEpochReport report);

    /// <summary>All folds of a trial have ended.</summary>
    /// <remarks><paramref name="legEpochs"/>: the epoch the ending leg trained to, naming the leg (a late end of a leg the sweep has moved past changes nothing).</remarks>
    Task OnTrialFinishedAsync(int trial, TrialState state, string? error, int legEpochs);

    /// <summary>Stops every running trial and ends the sweep.</summary>
    Task CancelAsync();

    /// <summary>
    /// Continues a sweep after its process died or it was cancelled: a cancelled sweep runs again, its interrupted trials
    /// restart and their folds resume from their latest checkpoints; then more trials start as the scheduler allows. A
    /// finished sweep is left as it is. Throws <see cref="KeyNotFoundException"/> when no sweep has this id.
    /// </summary>
    Task<SweepStatus> ResumeAsync();

    /// <summary>
    /// Makes sure every running trial is being trained: a trial or fold activation lost with its silo starts again (its
    /// folds after their stored epochs). The sweep's reminder calls this every minute while it runs.
    /// </summary>
    Task RedriveAsync();

    /// <summary>
    /// The leg a running trial is on, with the fold epochs the sweep stored beyond its last reported epoch; null when the
    /// trial is not running. A trial activation that finds itself without its leg (the old one was lost) asks for it.
    /// </summary>
    Task<TrialAssignment?> GetRunningLegAsync(int trial);
}

/// <summary>One configuration trained on every fold (key: "{sweep}/t{number:D3}").</summary>
[Alias("aunce.trial-grain")]
public interface ITrialGrain : IGrainWithStringKey
{
    /// <summary>Starts the trial's folds; a no-op if it is already running.</summary>
    Task StartAsync(TrialAssignment assignment);

    Task OnFoldEpochAsync(FoldEpochReport report);

    /// <summary>A fold's leg ended: <paramref name="error"/> says why when it failed.</summary>
    Task OnFoldFinishedAsync(int fold, FoldOutcome outcome, string? error);

    /// <summary>Stops all folds (pruning or cancellation).</summary>
    Task StopAsync(string reason);

    /// <summary>
    /// The sweep's re-drive: a new activation (the one that ran the leg was lost) starts <paramref name="assignment"/>; a
    /// running one makes sure each fold it has not heard finish is training.
    /// </summary>
    Task EnsureRunningAsync(TrialAssignment assignment);
}

/// <summary>How a fold's leg ended.</summary>
public enum FoldOutcome
{
    Completed = 0,
    Cancelled = 1,
    Failed = 2,
}

/// <summary>One fold of one trial, training on a trainer silo (key: "{sweep}/t{number:D3}/f{fold}").</summary>
[Alias("aunce.fold-grain")]
public interface IFoldGrain : IGrainWithStringKey
{
    /// <summary>Starts training in the background (resuming from the fold's latest checkpoint); returns at once.</summary>
    Task StartAsync(FoldAssignment assignment);

    /// <summary>Stops training within one step.</summary>
    Task StopAsync();

    /// <summary>Starts <paramref name="assignment"/> only if this activation has started nothing (the one that trained was lost).</summary>
    Task EnsureRunningAsync(FoldAssignment assignment);
}

/// <summary>Grain keys, formatted in one place.</summary>
public static class GrainKeys
{
    public static string Trial(string sweepId, int trial) => $"{sweepId}/t{trial:D3}";

    public static string Fold(string sweepId, int trial, int fold) => $"{Trial(sweepId, trial)}/f{fold}";

    /// <summary>The one sweep directory of a cluster.</summary>
    public const string Directory = "all";

    /// <summary>The one slot director of a cluster.</summary>
    public const string SlotDirector = "slots";

    /// <summary>
    /// Why <paramref name="sweepId"/> is not a valid sweep id (letters, digits, '-', '_' and '.', 1–100 characters, not
    /// starting with '.': a directory name and a checkpoint-key segment), or null when it is.
    /// </summary>
    public static string? SweepIdProblem(string sweepId) =>
        sweepId.Length is >= 1 and <= 100 && sweepId[0] != '.' && sweepId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? null
            : $"sweep id '{sweepId}' must be 1-100 letters, digits, '-', '_' or '.', not starting with '.'";
}

/// <summary>
/// Every sweep the cluster has started (key: <see cref="GrainKeys.Directory"/>): what the HTTP API and dashboards list.
/// A sweep registers itself once its start is stored.
/// </summary>
[Alias("aunce.sweep-directory-grain")]
public interface ISweepDirectoryGrain : IGrainWithStringKey
{
    /// <summary>Adds (or keeps) a sweep; idempotent.</summary>
    Task AddAsync(SweepListing sweep);

    /// <summary>Every registered sweep, in the order they started.</summary>
    Task<SweepListing[]> ListAsync();

    /// <summary>Marks a sweep running or not (idempotent; a sweep calls it as it starts, resumes, reactivates and ends).</summary>
    Task SetRunningAsync(string sweepId, bool running);

    /// <summary>The ids of the sweeps marked running.</summary>
    Task<string[]> ListRunningAsync();
}

/// <summary>A sweep as a list shows it before its status is read.</summary>
[GenerateSerializer, Immutable, Alias("aunce.sweep-listing")]
public sealed record SweepListing(
    [property: Id(0)] string SweepId,
    [property: Id(1)] string Name,
    [property: Id(2)] int Trials,
    [property: Id(3)] int Folds,
    [property: Id(4)] int Epochs,
    [property: Id(5)] string Scheduler,
    [property: Id(6)] string Sampler);
