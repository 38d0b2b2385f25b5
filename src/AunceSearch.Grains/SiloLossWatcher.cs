using AunceSearch.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AunceSearch.Grains;

/// <summary>
/// Runs on every coordinator silo. It follows the cluster's membership and, as soon as a silo is declared dead (killed,
/// hung past the probes, or stopped), re-drives every running sweep: each trial restarts the folds it has not heard
/// finish on a live trainer, from their last stored epoch. Without it a lost trainer's folds would wait for the sweep's
/// reminder (a minute). It also brings back a sweep or trial that Orleans deactivated because the dead silo held its
/// directory entry: the re-drive call activates it again, and the activation restarts its running trials.
/// Several coordinator silos each re-drive: harmless, a re-drive only starts what is not running.
/// </summary>
public sealed partial class SiloLossWatcher(IClusterMembershipService membership, IGrainFactory grains, ILocalSiloDetails local, StorageRetry retry, ILogger<SiloLossWatcher> logger)
    : BackgroundService
{
    /// <summary>How long one re-drive round keeps trying (the directory grain may itself be moving while membership settles).</summary>
    private static readonly TimeSpan RetryBudget = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        HashSet<SiloAddress>? dead = null;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                var now = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Dead).Select(m => m.SiloAddress).ToHashSet();
                // Never for this silo's own end: as it shuts down it sees itself dead, and a re-drive then would wait on grain
                // calls that its stopping runtime no longer answers (up to the response timeout) and hold up the shutdown.
                var stopping = stoppingToken.IsCancellationRequested || snapshot.GetSiloStatus(local.SiloAddress) != SiloStatus.Active;
                var lost = dead is null || stopping ? [] : now.Where(s => !dead.Contains(s)).Select(s => snapshot.Members[s]).ToList();
                dead = now;   // the first snapshot is the baseline: deaths before this silo started were its predecessors' to handle
                if (lost.Count > 0)
                {
                    await RedriveAsync(string.Join(", ", lost.Select(m => string.IsNullOrEmpty(m.Name) ? m.SiloAddress.ToString() : $"{m.Name} ({m.SiloAddress})")), lost.Count, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // the silo is stopping
        }
    }

    private async Task RedriveAsync(string silos, int count, CancellationToken stoppingToken)
    {
        AunceTelemetry.SilosLost.Add(count);
        var attempts = 1;
        try
        {
            await retry.RunAsync(async () =>
            {
                var running = await grains.GetGrain<ISweepDirectoryGrain>(GrainKeys.Directory).ListRunningAsync();
                LogSilosLost(logger, silos, running.Length);
                await Task.WhenAll(running.Select(id => grains.GetGrain<ISweepGrain>(id).RedriveAsync()));
                return true;
            }, (attempt, _, _) => attempts = attempt + 1, RetryBudget, stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            LogRedriveFailed(logger, e, silos, attempts);   // the sweeps' reminders still re-drive within a minute
        }
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Silo {Silos} declared dead; re-driving {Running} running sweeps (folds that trained there resume elsewhere from their last stored epoch)")]
    private static partial void LogSilosLost(ILogger logger, string silos, int running);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Error, Message = "Re-driving the running sweeps after silo {Silos} died failed {Attempts} times; their reminders re-drive them within a minute")]
    private static partial void LogRedriveFailed(ILogger logger, Exception exception, string silos, int attempts);
}
