using Microsoft.Extensions.Time.Testing;

namespace AunceSearch.Grains.Tests;

/// <summary>The storage retry pipeline on a fake clock: its backoff, its budget, and what it never retries.</summary>
public sealed class StorageRetryTests
{
    [Fact]
    public async Task A_failing_call_is_tried_again_after_a_doubling_wait_until_it_succeeds()
    {
        var time = new CountingClock();
        var retry = StorageRetry.Create(time);
        var waits = new List<(int Attempt, TimeSpan Delay)>();
        var calls = 0;
        var run = retry.RunAsync(() => ++calls < 4 ? throw new IOException("store restarting") : Task.FromResult(calls),
            (attempt, delay, _) => waits.Add((attempt, delay)));

        // Each wait ends only when the clock passes it: advance by each expected delay as its retry is announced.
        for (var retries = 1; retries <= 3; retries++)
        {
            var announced = retries;
            await WaitUntil(() => time.Timers == announced);   // the wait has begun: advancing now ends it
            Assert.False(run.IsCompleted);
            time.Advance(waits[^1].Delay);
        }

        Assert.Equal(4, await run);
        Assert.Equal([(1, TimeSpan.FromMilliseconds(250)), (2, TimeSpan.FromMilliseconds(500)), (3, TimeSpan.FromMilliseconds(1000))], waits);
    }

    [Fact]
    public async Task The_last_error_is_thrown_once_the_next_wait_would_pass_the_budget()
    {
        var time = new CountingClock();
        var retry = StorageRetry.Create(time);
        var waits = new List<TimeSpan>();
        var run = retry.RunAsync<int>(() => throw new IOException($"down at {time.GetUtcNow():HH:mm:ss.fff}"), (_, delay, _) => waits.Add(delay),
            budget: TimeSpan.FromSeconds(1));
        await WaitUntil(() => time.Timers == 1);
        time.Advance(TimeSpan.FromMilliseconds(250));
        await WaitUntil(() => time.Timers == 2);
        time.Advance(TimeSpan.FromMilliseconds(500));   // 0.75 s spent: a 1 s wait would end past the 1 s budget

        var e = await Assert.ThrowsAsync<IOException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("down at", e.Message);
        Assert.Equal([TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500)], waits);
    }

    [Fact]
    public async Task Bad_arguments_cancellation_and_the_callers_permanent_errors_are_never_retried()
    {
        var retry = StorageRetry.Create(new FakeTimeProvider());
        var retried = 0;
        void OnRetry(int attempt, TimeSpan delay, Exception e) => retried++;

        await Assert.ThrowsAsync<ArgumentException>(() => retry.RunAsync<int>(() => throw new ArgumentException("bad key"), OnRetry));
        await Assert.ThrowsAsync<OperationCanceledException>(() => retry.RunAsync<int>(() => throw new OperationCanceledException(), OnRetry));
        await Assert.ThrowsAsync<InvalidDataException>(() =>
            retry.RunAsync<int>(() => throw new InvalidDataException("etag"), OnRetry, permanent: e => e is InvalidDataException));
        Assert.Equal(0, retried);
    }

    /// <summary>A fake clock that counts the timers made on it (each retry's wait is one).</summary>
    private sealed class CountingClock : FakeTimeProvider
    {
        private int _timers;

        public int Timers => Volatile.Read(ref _timers);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _timers);
            return timer;
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        // The pipeline runs on the thread pool between fake-clock advances: wait for its state, bounded.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the retry pipeline did not reach the expected state within 10 s");
            await Task.Yield();
        }
    }
}
