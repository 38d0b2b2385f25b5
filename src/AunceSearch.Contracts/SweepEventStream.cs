using System.Runtime.CompilerServices;

namespace AunceSearch.Contracts;

/// <summary>How a caller reads a sweep's event stream (<see cref="ISweepGrain.WatchEventsAsync"/>).</summary>
public static class SweepEventStream
{
    /// <summary>
    /// The sweep's event batches, as <see cref="ISweepGrain.WatchEventsAsync"/> gives them, with a cancellation that takes
    /// effect at once: a caller that leaves (an HTTP client gone, a host stopping) never waits for the grain's next batch or
    /// heartbeat, and the stream it left is disposed in the background.
    /// </summary>
    public static async IAsyncEnumerable<SweepEvent[]> FollowAsync(this ISweepGrain sweep, long afterSequence, TimeSpan heartbeat,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var stream = sweep.WatchEventsAsync(afterSequence, heartbeat, cancellationToken).GetAsyncEnumerator(cancellationToken);
        Task<bool>? moving = null;
        var ended = false;
        try
        {
            while (await (moving = stream.MoveNextAsync().AsTask()).WaitAsync(cancellationToken))
            {
                yield return stream.Current;
            }

            ended = true;
        }
        finally
        {
            if (ended || moving is null || moving.IsCompleted)
            {
                await DisposeQuietlyAsync(stream, wait: ended);
            }
            else
            {
                // Left while the grain's next batch is pending: an enumerator cannot be disposed during a move, so it is
                // disposed when that move ends (the grain's next batch or heartbeat), without anyone waiting for it.
                _ = moving.ContinueWith(_ => DisposeQuietlyAsync(stream, wait: false), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
        }
    }

    private static async Task DisposeQuietlyAsync(IAsyncEnumerator<SweepEvent[]> stream, bool wait)
    {
        try
        {
            await stream.DisposeAsync();
        }
        catch (Exception) when (!wait)
        {
            // a stream left early: its end is nobody's concern
        }
    }
}
