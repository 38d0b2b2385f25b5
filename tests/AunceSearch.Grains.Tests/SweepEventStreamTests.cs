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
