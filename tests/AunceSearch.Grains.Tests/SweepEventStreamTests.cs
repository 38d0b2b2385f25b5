using System.Reflection;
using System.Runtime.CompilerServices;
using AunceSearch.Contracts;

namespace AunceSearch.Grains.Tests;

/// <summary>A follower of a sweep's event stream leaves at once when cancelled, whatever the grain's stream does.</summary>
public sealed class SweepEventStreamTests
{
    [Fact]
    public async Task A_cancelled_follower_leaves_at_once_even_when_the_stream_never_answers()
    {
        var sweep = DispatchProxy.Create<ISweepGrain, SilentSweep>();
        using var cancel = new CancellationTokenSource();
        var seen = new List<SweepEvent[]>();
        var follow = Task.Run(async () =>
        {
            await foreach (var batch in sweep.FollowAsync(0, TimeSpan.FromHours(1), cancel.Token))
            {
                seen.Add(batch);
            }
        });
        await SilentSweep.Waiting.Task.WaitAsync(TimeSpan.FromSeconds(10));   // the follower is inside the stream's wait
        await cancel.CancelAsync();
        var left = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follow.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(cancel.Token, left.CancellationToken);
        Assert.Single(seen);   // the first batch arrived; the wait after it was left
    }

    [Fact]
    public async Task A_stream_broken_by_the_cluster_is_opened_again_after_the_last_event_received()
    {
        var sweep = DispatchProxy.Create<ISweepGrain, BreakingSweep>();
        var retries = new List<Exception>();
        var seen = new List<long>();
        await foreach (var batch in sweep.FollowAsync(0, TimeSpan.FromSeconds(1), CancellationToken.None, (_, _, e) => retries.Add(e)).WithCancellation(CancellationToken.None))
        {
            seen.AddRange(batch.Select(e => e.Sequence));
        }

        Assert.Equal([1L, 2, 3, 4], seen);                  // nothing lost, nothing twice
        Assert.Equal([0L, 2, 3], BreakingSweep.Opened);      // each reopening starts after the last event received
        Assert.Collection(retries, e => Assert.IsType<OperationCanceledException>(e), e => Assert.IsType<TimeoutException>(e));
    }

    /// <summary>
    /// An <see cref="ISweepGrain"/> whose first stream sends events 1-2 and is cancelled by the runtime (its silo died), the
    /// second sends 3 and times out, the third sends 4 and ends.
    /// </summary>
    public class BreakingSweep : DispatchProxy
    {
        public static readonly List<long> Opened = [];

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name != nameof(ISweepGrain.WatchEventsAsync))
            {
                throw new NotSupportedException(targetMethod?.Name);
            }

            var after = (long)args![0]!;
            Opened.Add(after);
            return Stream(after, Opened.Count);
        }

        private static async IAsyncEnumerable<SweepEvent[]> Stream(long after, int opening)
        {
            await Task.Yield();
            SweepEvent Event(long n) => new(n, "trial", 0, null, null, null, "running", $"event {n}");
            switch (opening)
            {
                case 1:
                    yield return [Event(1), Event(2)];
                    throw new OperationCanceledException("the call was cancelled: its silo is gone");
                case 2:
                    Assert.Equal(2, after);
                    yield return [Event(3)];
                    throw new TimeoutException("no answer");
                default:
                    yield return [Event(4)];
                    yield break;
            }
        }
    }

    /// <summary>An <see cref="ISweepGrain"/> whose event stream sends one batch, then waits forever, deaf to cancellation.</summary>
    public class SilentSweep : DispatchProxy
    {
        public static readonly TaskCompletionSource Waiting = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name == nameof(ISweepGrain.WatchEventsAsync)
            ? Stream()
            : throw new NotSupportedException(targetMethod?.Name);

        private static async IAsyncEnumerable<SweepEvent[]> Stream([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            yield return [new SweepEvent(1, "sweep", 0, null, null, null, "running", "started")];
            Waiting.TrySetResult();
            await Task.Delay(Timeout.Infinite, CancellationToken.None);
            yield break;
        }
    }
}
