using System.Diagnostics;

namespace AunceSearch.Grains;

/// <summary>
/// Rides out an outage (a store restarting, a cluster settling after a silo died): a failed call is tried again after
/// 0.25 s, then twice as long each time up to 8 s, until it succeeds or the budget is spent (then the last error is
/// thrown). Bad arguments and cancellation are not retried.
/// </summary>
public static class StorageRetry
{
    /// <summary>How long a write may keep failing before it is given up: longer than a store restart.</summary>
    public static readonly TimeSpan DefaultBudget = TimeSpan.FromMinutes(2);

    /// <param name="permanent">Errors that no retry can mend (beyond bad arguments and cancellation), thrown at once.</param>
    public static async Task<T> RunAsync<T>(Func<Task<T>> write, Action<int, TimeSpan, Exception> onRetry, TimeSpan? budget = null,
        CancellationToken cancellationToken = default, Func<Exception, bool>? permanent = null)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        var started = Stopwatch.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await write();
            }
            catch (Exception e) when (e is not (OperationCanceledException or ArgumentException) && permanent?.Invoke(e) != true &&
                                      Stopwatch.GetElapsedTime(started) + delay <= (budget ?? DefaultBudget))
            {
                onRetry(attempt, delay, e);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(8).Ticks));
            }
        }
    }
}
