using System.Diagnostics;
using AunceSearch.Contracts;

namespace AunceSearch.Cli;

/// <summary>
/// Follows one sweep for a command (<c>sweep run</c>, <c>sweep resume</c>): its event stream into the journal's export
/// (events.jsonl), cancel requests from <c>aunce sweep cancel</c>, and on stderr why its folds wait when they do.
/// </summary>
public sealed class SweepFollower(ISweepGrain sweep, SweepJournal journal, IGrainFactory grains, ClusterCalls calls, TextWriter stderr)
{
    /// <summary>How often a follower hears from a quiet sweep: it then passes a cancel request on, says why folds wait, and redraws.</summary>
    private static readonly TimeSpan FollowHeartbeat = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Follows the sweep's event stream until it ends: appends its events to the journal's export, passes a cancel request
    /// from `aunce sweep cancel` on, and hands each batch of events with the sweep's overview to <paramref name="show"/>.
    /// A stream that breaks while the cluster settles (a coordinator silo died) is opened again after the last journaled
    /// event, for up to a minute of failures in a row.
    /// </summary>
    public async Task<SweepStatus> FollowAsync(long seen, CancellationToken detach, Func<SweepEvent[], SweepOverview?, Task> show)
    {
        async Task TakeAsync(SweepEvent[] events)
        {
            if (journal.TakeCancelRequest())
            {
                await calls.RunAsync(async () =>
                {
                    await sweep.CancelAsync();
                    return true;
                });
            }

            await AppendWhenSpaceAsync(events, detach);
            if (events.Length > 0)
            {
                seen = events[^1].Sequence;
            }

            var overview = await calls.RunAsync(() => sweep.GetOverviewAsync());   // O(1) in the trials

            await show(events, overview);
            await SayWhyFoldsWaitAsync(sweep.GetPrimaryKeyString(), overview?.State ?? SweepState.Running);
        }

        try
        {
            // The stream reopens itself after the last event when the cluster settles (SweepEventStream.FollowAsync), and
            // every other call here is retried by ClusterCalls: no retry loop of its own.
            await foreach (var events in sweep.FollowAsync(seen, FollowHeartbeat, detach, calls.Retry))
            {
                await TakeAsync(events);
            }

            await TakeAsync([]);   // the sweep ended and every event is journaled: the last view shows the end
            return await calls.RunAsync(() => sweep.GetStatusAsync());
        }
        catch (OperationCanceledException) when (detach.IsCancellationRequested)
        {
            // Detached: journal what the sweep stored up to now, then leave it running.
            var after = seen;
            await TakeAsync(await calls.RunAsync(() => sweep.GetEventsAsync(after)));
            return await calls.RunAsync(() => sweep.GetStatusAsync());
        }
    }

    /// <summary>
    /// Appends to the journal; a full disk pauses the follower (one warning, then a retry every few seconds) instead of
    /// ending it, as the folds pause their checkpoint writes: once space is freed the sweep goes on with nothing lost.
    /// </summary>
    private async Task AppendWhenSpaceAsync(SweepEvent[] events, CancellationToken detach)
    {
        var wait = TimeSpan.FromSeconds(0.5);
        var warned = false;
        while (true)
        {
            try
            {
                journal.Append(events);
                if (warned)
                {
                    await stderr.WriteLineAsync($"journal {journal.Directory}: space freed; writing again");
                }

                return;
            }
            catch (IOException e) when (Checkpoints.DurableFile.IsDiskFull(e) && !detach.IsCancellationRequested)
            {
                if (!warned)
                {
                    await stderr.WriteLineAsync($"warning: journal {journal.Directory}: no space left on device; the sweep waits until space is freed (nothing stored is lost)");
                    warned = true;
                }

                await Task.Delay(wait, detach).ContinueWith(_ => { }, TaskScheduler.Default);
                wait = TimeSpan.FromSeconds(Math.Min(5, wait.TotalSeconds * 2));
            }
        }
    }

    private Stopwatch? _slotsAsked;
    private string? _waitingSaid;

    /// <summary>
    /// Every few seconds while the sweep runs: asks the slot director whether this sweep's folds wait, and says so on
    /// stderr when that changes (no trainer in the cluster, or every slot busy) — a sweep that waits says why.
    /// </summary>
    private async Task SayWhyFoldsWaitAsync(string sweepId, SweepState state)
    {
        if (state != SweepState.Running || _slotsAsked?.Elapsed < TimeSpan.FromSeconds(2))
        {
            return;
        }

        _slotsAsked = Stopwatch.StartNew();
        try
        {
            var slots = await grains.GetGrain<ISlotDirectorGrain>(GrainKeys.SlotDirector).GetStatusAsync();
            var said = slots.QueuedFor(sweepId) > 0 && slots.Trainers.Length == 0 ? slots.Waiting : null;
            if (said != _waitingSaid)
            {
                await stderr.WriteLineAsync(said is null ? $"sweep {sweepId}: a trainer joined; its folds are starting" : $"sweep {sweepId}: {said}");
                _waitingSaid = said;
            }
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            // the cluster is settling: asked again next time
        }
    }
}
