namespace AunceSearch.Contracts;

/// <summary>
/// The one backoff every retry in AunceSearch follows (storage writes, cluster calls, a broken event stream): 0.25 s after
/// the first failure, then twice as long each time, at most 8 s — so a store restart or a cluster settling is ridden out
/// within seconds, and a long outage is polled every 8 s.
/// </summary>
public static class RetrySchedule
{
    public static readonly TimeSpan First = TimeSpan.FromMilliseconds(250);

    public static readonly TimeSpan Longest = TimeSpan.FromSeconds(8);

    /// <summary>The wait after the failure numbered <paramref name="attempt"/> (from 0).</summary>
    public static TimeSpan Delay(int attempt) => TimeSpan.FromTicks(Math.Min(First.Ticks << Math.Clamp(attempt, 0, 10), Longest.Ticks));
}
