using AunceSearch.Contracts;

namespace AunceSearch.Tests;

/// <summary>
/// Waits on a sweep's event stream (<see cref="ISweepGrain.WatchEventsAsync"/>) instead of polling: until it ends, or until
/// the events seen so far satisfy a condition. A timeout fails the test with the sweep's trials in the message.
/// </summary>
internal static class SweepWatch
{
    private static readonly Func<IReadOnlyList<SweepEvent>, bool> NeverEnough = _ => false;

    /// <summary>Until the sweep has ended and every event is out; its final status.</summary>
    public static async Task<SweepStatus> UntilEndAsync(ISweepGrain sweep, TimeSpan timeout)
    {
        await UntilAsync(sweep, NeverEnough, timeout, "the sweep never ended");
        return await sweep.GetStatusAsync();
    }

    /// <summary>Until the events seen (from the first) satisfy <paramref name="enough"/>; they are returned. Fails if the sweep ends first.</summary>
    public static async Task<IReadOnlyList<SweepEvent>> UntilAsync(ISweepGrain sweep, Func<IReadOnlyList<SweepEvent>, bool> enough, TimeSpan timeout, string what)
    {
        var seen = new List<SweepEvent>();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var events in sweep.FollowAsync(0, TimeSpan.FromSeconds(1), deadline.Token))
            {
                seen.AddRange(events);
                if (events.Length > 0 && enough(seen))
                {
                    return seen;
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            var last = await sweep.GetStatusAsync();
            throw new TimeoutException($"{what} within {timeout}: sweep {last.SweepId} is {last.State}, trials " +
                                       string.Join(", ", last.Trials.Select(t => $"t{t.Trial}={t.State}@{t.LastEpoch}/{t.TargetEpoch}")));
        }

        if (enough(seen))
        {
            return seen;
        }

        // The stream ended: the sweep did. That is what UntilEndAsync waits for; for anything else it is a failure.
        return ReferenceEquals(enough, NeverEnough) ? seen : throw new InvalidOperationException($"{what}: the sweep ended first ({seen.Count} events)");
    }
}
