using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace AunceSearch.Contracts;

/// <summary>How a caller reads a sweep's event stream (<see cref="ISweepGrain.WatchEventsAsync"/>).</summary>
public static class SweepEventStream
{
    /// <summary>How long a stream may keep breaking (a coordinator silo died, the sweep moves) before the error is thrown.</summary>
    public static readonly TimeSpan RetryBudget = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The sweep's event batches, as <see cref="ISweepGrain.WatchEventsAsync"/> gives them, read so that:
    /// <list type="bullet">
    /// <item>a cancellation takes effect at once: a caller that leaves (an HTTP client gone, a host stopping) never waits for
    /// the grain's next batch or heartbeat, and the stream it left is disposed in the background;</item>
    /// <item>a stream that breaks while the cluster settles (the sweep's silo died, its activation moved: the pending call
    /// fails or is cancelled by the runtime) is opened again after the last event received, on <see cref="RetrySchedule"/>,
    /// for up to <see cref="RetryBudget"/> of failures in a row; <paramref name="onRetry"/>
    /// hears of each.</item>
    /// </list>
    /// </summary>
    public static async IAsyncEnumerable<SweepEvent[]> FollowAsync(this ISweepGrain sweep, long afterSequence, TimeSpan heartbeat,
        [EnumeratorCancellation] CancellationToken cancellationToken = default, Action<int, TimeSpan, Exception>? onRetry = null)
    {
        var after = afterSequence;
        Stopwatch? failing = null;
        var attempt = 0;
        while (true)
        {
            var stream = sweep.WatchEventsAsync(after, heartbeat, cancellationToken).GetAsyncEnumerator(cancellationToken);
            Task<bool>? moving = null;
            var ended = false;
            Exception? broken = null;
            try
            {
                while (true)
                {
                    try
                    {
                        if (!await (moving = stream.MoveNextAsync().AsTask()).WaitAsync(cancellationToken))
                        {
                            ended = true;
                            break;
                        }
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested && Transient(e) &&
                                              (failing ??= Stopwatch.StartNew()).Elapsed < RetryBudget)
                    {
                        broken = e;
                        break;
                    }

                    (failing, attempt) = (null, 0);
                    var batch = stream.Current;
                    if (batch.Length > 0)
                    {
                        after = batch[^1].Sequence;
                    }

                    yield return batch;
                }
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

            if (ended)
            {
                yield break;
            }

            var delay = RetrySchedule.Delay(attempt);
            onRetry?.Invoke(++attempt, delay, broken!);
            await Task.Delay(delay, cancellationToken);
        }
    }

    /// <summary>What breaks a stream while the cluster settles, as opposed to an unknown sweep or a bug.</summary>
    private static bool Transient(Exception e) =>
        e is OrleansException or TimeoutException or EnumerationAbortedException or OperationCanceledException;

    private static async Task DisposeQuietlyAsync(IAsyncEnumerator<SweepEvent[]> stream, bool wait)
    {
        try
        {
            await stream.DisposeAsync();
        }
        catch (Exception) when (!wait)
        {
            // a stream left early or broken: its end is nobody's concern
        }
    }
}
