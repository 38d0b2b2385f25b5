using AunceSearch.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Registry;
using Polly.Retry;

namespace AunceSearch.Grains;

/// <summary>
/// Rides out an outage (a store restarting, a cluster settling after a silo died) on a Polly retry pipeline: a failed call
/// is tried again on <see cref="RetrySchedule"/> (0.25 s, then twice as long each time up to 8 s) until it succeeds or the call's budget is spent
/// (then the last error is thrown). Bad arguments, cancellation and the call's own permanent errors are not retried.
/// One pipeline serves every call; a call's budget, permanent errors and retry callback travel in its
/// <see cref="ResilienceContext"/>. In a silo the pipeline comes from dependency injection
/// (<see cref="StorageRetryServices.AddStorageRetry"/>), so Polly's telemetry (the <c>Polly</c> meter and its logs) and the host's
/// <see cref="TimeProvider"/> apply; <see cref="Default"/> serves code without a container.
/// </summary>
public sealed class StorageRetry(ResiliencePipeline pipeline, TimeProvider time)
{
    /// <summary>The pipeline's name in the registry and in Polly's telemetry.</summary>
    public const string PipelineName = "aunce-storage";

    /// <summary>How long a write may keep failing before it is given up: longer than a store restart.</summary>
    public static readonly TimeSpan DefaultBudget = TimeSpan.FromMinutes(2);

    private static readonly ResiliencePropertyKey<Call> CallKey = new("aunce.retry-call");

    /// <summary>The pipeline on the system clock, without a container's telemetry.</summary>
    public static StorageRetry Default { get; } = Create(TimeProvider.System);

    /// <summary>A pipeline of its own on <paramref name="time"/> (tests drive it with a fake clock).</summary>
    public static StorageRetry Create(TimeProvider time) =>
        new(Configure(new ResiliencePipelineBuilder { TimeProvider = time }, time).Build(), time);

    /// <summary>Runs <paramref name="call"/>, trying it again while it fails with an error worth retrying and the budget lasts.</summary>
    /// <param name="onRetry">Told of each retry: the attempt that failed (from 1), the wait before the next, and the error.</param>
    /// <param name="budget">How long the call may keep failing (from its first attempt); <see cref="DefaultBudget"/> when null.</param>
    /// <param name="permanent">Errors that no retry can mend (beyond bad arguments and cancellation), thrown at once.</param>
    public async Task<T> RunAsync<T>(Func<Task<T>> call, Action<int, TimeSpan, Exception> onRetry, TimeSpan? budget = null,
        CancellationToken cancellationToken = default, Func<Exception, bool>? permanent = null)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(CallKey, new Call(time.GetTimestamp(), budget ?? DefaultBudget, permanent, onRetry));
        try
        {
            return await pipeline.ExecuteAsync(static async (_, call) => await call(), context, call);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    internal static ResiliencePipelineBuilder Configure(ResiliencePipelineBuilder builder, TimeProvider time) =>
        builder.AddRetry(new RetryStrategyOptions
        {
            Name = "backoff",
            MaxRetryAttempts = int.MaxValue,   // the call's budget ends the retries
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(RetrySchedule.Delay(args.AttemptNumber)),   // the schedule every retry shares
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && Retryable(e, args.Context, args.AttemptNumber, time)),
            OnRetry = args =>
            {
                if (args.Context.Properties.TryGetValue(CallKey, out var call) && args.Outcome.Exception is { } e)
                {
                    call.OnRetry(args.AttemptNumber + 1, args.RetryDelay, e);
                }

                return ValueTask.CompletedTask;
            },
        });

    /// <summary>Whether the attempt numbered <paramref name="attempt"/> (from 0) that failed with <paramref name="e"/> is tried again.</summary>
    private static bool Retryable(Exception e, ResilienceContext context, int attempt, TimeProvider time)
    {
        if (e is OperationCanceledException or ArgumentException || !context.Properties.TryGetValue(CallKey, out var call) || call.Permanent?.Invoke(e) == true)
        {
            return false;
        }

        return time.GetElapsedTime(call.Started) + RetrySchedule.Delay(attempt) <= call.Budget;   // the wait the pipeline would take next
    }

    private sealed record Call(long Started, TimeSpan Budget, Func<Exception, bool>? Permanent, Action<int, TimeSpan, Exception> OnRetry);
}

/// <summary>Registers <see cref="StorageRetry"/>.</summary>
public static class StorageRetryServices
{
    /// <summary>Registers the pipeline (with Polly's telemetry) and a <see cref="StorageRetry"/> on it.</summary>
    public static IServiceCollection AddStorageRetry(this IServiceCollection services)
    {
        services.AddResiliencePipeline(StorageRetry.PipelineName, (builder, context) =>
            StorageRetry.Configure(builder, context.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System));
        services.AddSingleton(sp => new StorageRetry(sp.GetRequiredService<ResiliencePipelineProvider<string>>().GetPipeline(StorageRetry.PipelineName),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        return services;
    }
}
