using AunceSearch.Grains;

namespace AunceSearch.Cli;

/// <summary>
/// A call to the sweep, tried again (0.25 s, doubling to 8 s, for up to a minute) while the cluster settles after a silo
/// died or hung: a placement that briefly knows no live coordinator, a call that timed out against a hung silo. These calls
/// are idempotent. Anything else (an unknown sweep, a refused definition) is thrown at once. Each retry is said on stderr.
/// </summary>
public sealed class ClusterCalls(TextWriter stderr)
{
    public Task<T> RunAsync<T>(Func<Task<T>> call) =>
        StorageRetry.Default.RunAsync(call, Retry, TimeSpan.FromMinutes(1), permanent: e => e is not (OrleansException or TimeoutException));

    public void Retry(int attempt, TimeSpan delay, Exception e) =>
        stderr.WriteLine($"the cluster did not answer ({e.GetType().Name}: {e.Message.Split('\n')[0]}); trying again in {delay.TotalSeconds:0.##} s");
}
