using System.Collections.Concurrent;
using AunceSearch.Contracts;
using Microsoft.Extensions.Logging;

namespace AunceSearch.Grains;

/// <summary>The folds training on this silo now, and on which device (what its adverts list).</summary>
public sealed class LocalFolds
{
    private readonly ConcurrentDictionary<string, RunningFold> _running = new(StringComparer.Ordinal);

    public void Add(string foldKey, string sweepId, int device) => _running[foldKey] = new RunningFold(foldKey, sweepId, device);

    public void Remove(string foldKey) => _running.TryRemove(foldKey, out _);

    public RunningFold[] Snapshot() => [.. _running.Values.OrderBy(f => f.FoldKey, StringComparer.Ordinal)];
}

/// <summary>This trainer silo's devices and slots, as detected at start-up (or configured).</summary>
public sealed record TrainerDevices(IReadOnlyList<SlotDevice> Devices)
{
    public int Slots => Devices.Sum(d => d.Slots);
}

/// <summary>
/// Runs on every trainer silo: once the silo is active it tells the slot director its devices and slots, then again every
/// <see cref="Period"/> with the folds it runs (so a restarted director learns what runs where, and a lease whose fold
/// never started is freed). A silo joining mid-sweep takes waiting folds as soon as its first advert lands. When the silo
/// stops (SIGTERM, <c>aunce silo drain</c>) it withdraws first, so no new fold is placed on it while its folds move away.
/// </summary>
public sealed partial class TrainerSlotAdvertiser(IGrainFactory grains, ILocalSiloDetails silo, TrainerDevices devices, LocalFolds folds,
    ILogger<TrainerSlotAdvertiser> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(TrainerSlotAdvertiser), ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);

    private ISlotDirectorGrain Director => grains.GetGrain<ISlotDirectorGrain>(GrainKeys.SlotDirector);

    private Task OnStartAsync(CancellationToken cancellationToken)
    {
        LogDevices(logger, devices.Slots, string.Join(", ", devices.Devices.Select(d => $"{d.Kind}:{d.Index} ({d.MemoryBytes / (1 << 20)} MiB) × {d.Slots}")));
        _loop = Task.Run(LoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task LoopAsync()
    {
        var failures = 0;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Director.AdvertiseAsync(new TrainerAdvert(silo.SiloAddress.ToParsableString(), silo.Name, [.. devices.Devices], folds.Snapshot()));
                failures = 0;
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                if (++failures == 3)
                {
                    LogAdvertFailing(logger, e.Message.Split('\n')[0]);   // the cluster is settling (a coordinator died): tried again
                }
            }

            try
            {
                await Task.Delay(Period, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        if (_loop is { } loop)
        {
            await loop.WaitAsync(cancellationToken).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        try
        {
            await Director.WithdrawAsync(silo.SiloAddress.ToParsableString()).WaitAsync(TimeSpan.FromSeconds(3), cancellationToken);
        }
        catch (ObjectDisposedException)
        {
            // The silo is being torn down without having run (a start that failed, e.g. a busy port): nothing to withdraw.
        }
        catch (Exception e)
        {
            LogWithdrawFailed(logger, e.Message.Split('\n')[0]);   // the director drops this silo when membership says it is gone
        }
    }

    [LoggerMessage(EventId = 1411, Level = LogLevel.Information, Message = "Training slots: {Slots} ({Devices})")]
    private static partial void LogDevices(ILogger logger, int slots, string devices);

    [LoggerMessage(EventId = 1412, Level = LogLevel.Warning, Message = "Cannot reach the slot director ({Reason}); advertising again every 2 s")]
    private static partial void LogAdvertFailing(ILogger logger, string reason);

    [LoggerMessage(EventId = 1413, Level = LogLevel.Warning, Message = "Could not withdraw from the slot director while stopping ({Reason})")]
    private static partial void LogWithdrawFailed(ILogger logger, string reason);
}
