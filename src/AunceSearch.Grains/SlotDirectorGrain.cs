using AunceSearch.Contracts;
using AunceSearch.Coordination;
using AunceSearch.Grains.Placement;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Runtime.Placement;

namespace AunceSearch.Grains;

/// <summary>
/// The cluster's slot director (one activation, on a coordinator silo). It holds the <see cref="SlotLedger"/> — trainer
/// silos' advertised slots, the fold queue, the leases — and starts each leased fold on its silo: Orleans' placement hint
/// (<see cref="IPlacementDirector.PlacementHintKey"/>) puts the fold's activation there, and the assignment names the
/// device. Its state is soft: after a restart the trainers' adverts (every <see cref="TrainerSlotAdvertiser.Period"/>)
/// report what runs where, and the sweeps' re-drive queues what is missing.
/// Reentrant: every ledger change is synchronous; the fold calls it makes are not awaited within its turns.
/// </summary>
[RequireSiloMetadata(TrainerSilo.CoordinatorKey, "true")]
[Reentrant]
public sealed partial class SlotDirectorGrain(IClusterMembershipService membership, ILogger<SlotDirectorGrain> logger) : Grain, ISlotDirectorGrain
{
    private readonly SlotLedger _ledger = new();

    /// <summary>The latest assignment of every fold waiting or holding a slot.</summary>
    private readonly Dictionary<string, FoldAssignment> _assignments = new(StringComparer.Ordinal);

    /// <summary>Trainers that said they are stopping: a late advert from one does not bring it back.</summary>
    private readonly HashSet<string> _withdrawn = new(StringComparer.Ordinal);

    /// <summary>Whether the last pump left folds waiting with no trainer at all (said once per stretch, not per call).</summary>
    private bool _starved;

    private IGrainTimer? _tick;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        DelayDeactivation(TimeSpan.FromDays(365));   // the queue lives here: stay while the silo does
        AunceTelemetry.ObserveQueue(() => (_ledger.Queued, _ledger.BusySlots, _ledger.TotalSlots, _ledger.Trainers));

        // Membership moves without telling the director (a trainer killed between adverts): look every two seconds.
        _tick = this.RegisterGrainTimer(_ =>
        {
            Pump();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2)) { Interleave = true });
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _tick?.Dispose();
        AunceTelemetry.ObserveQueue(null);
        return Task.CompletedTask;
    }

    public Task EnqueueAsync(FoldAssignment[] folds)
    {
        foreach (var fold in folds)
        {
            var key = fold.Key;
            _assignments[key] = fold;
            if (_ledger.LeaseOf(key) is { } lease && IsLive(lease.Silo))
            {
                Send(lease, (f, a) => f.StartAsync(a));   // ignored while it trains; a new leg where it has just ended
            }
            else
            {
                if (_ledger.LeaseOf(key) is { } dead)
                {
                    _ledger.Release(key, dead.Silo);
                }

                _ledger.Enqueue(key, fold.Trial.SweepId);
            }
        }

        Pump();
        return Task.CompletedTask;
    }

    public Task EnsureAsync(FoldAssignment[] folds)
    {
        Prune();
        foreach (var fold in folds)
        {
            var key = fold.Key;
            _assignments[key] = fold;
            if (_ledger.LeaseOf(key) is { } lease)
            {
                Send(lease, (f, a) => f.EnsureRunningAsync(a));
            }
            else
            {
                _ledger.Enqueue(key, fold.Trial.SweepId);   // no-op when it waits already
            }
        }

        Pump();
        return Task.CompletedTask;
    }

    public Task<int[]> CancelAsync(string sweepId, int trial, int[] folds)
    {
        var unstarted = new List<int>();
        foreach (var fold in folds)
        {
            var key = GrainKeys.Fold(sweepId, trial, fold);
            if (_ledger.Dequeue(key))
            {
                _assignments.Remove(key);
                unstarted.Add(fold);
            }
            else if (_ledger.LeaseOf(key) is { } lease)
            {
                Send(lease, (f, _) => f.StopAsync());
            }
            else
            {
                // Neither waiting nor leased here (the director restarted and no advert listed it yet): stop it wherever it is.
                Observe(GrainFactory.GetGrain<IFoldGrain>(key).StopAsync(), key);
            }
        }

        return Task.FromResult(unstarted.ToArray());
    }

    public Task ReleaseAsync(string foldKey, string silo)
    {
        if (_ledger.Release(foldKey, silo) && !_ledger.IsQueued(foldKey))
        {
            _assignments.Remove(foldKey);
        }

        Pump();
        return Task.CompletedTask;
    }

    public Task AdvertiseAsync(TrainerAdvert advert)
    {
        if (IsLive(advert.Silo) && !_withdrawn.Contains(advert.Silo))
        {
            var joined = !_ledger.Advertises(advert.Silo);
            _ledger.Advertise(advert.Silo, advert.Name, advert.Devices, advert.Running);
            if (joined)
            {
                LogJoined(logger, advert.Name, advert.Devices.Sum(d => d.Slots), string.Join(", ", advert.Devices.Select(d => $"{d.Kind}:{d.Index}×{d.Slots}")), _ledger.Queued);
            }
        }

        Pump();
        return Task.CompletedTask;
    }

    public Task WithdrawAsync(string silo)
    {
        // Its leases stay until it is gone: its folds checkpoint and stop, and the re-drive after its end moves them.
        if (_withdrawn.Add(silo))
        {
            _ledger.Withdraw(silo);
            LogWithdrawn(logger, silo);
        }

        return Task.CompletedTask;
    }

    public Task<SlotStatus> GetStatusAsync()
    {
        Prune();
        return Task.FromResult(_ledger.Status());
    }

    /// <summary>Drops trainers that membership no longer lists as active, then starts what the free slots allow.</summary>
    private void Pump()
    {
        Prune();
        foreach (var lease in _ledger.Dispatch())
        {
            Send(lease, (f, a) => f.StartAsync(a));
        }

        var starved = _ledger.Queued > 0 && _ledger.Trainers == 0;
        if (starved && !_starved)
        {
            LogStarved(logger, _ledger.Queued);
        }

        _starved = starved;
    }

    private void Prune()
    {
        foreach (var silo in _ledger.Silos.Where(s => !IsLive(s)).ToList())
        {
            var lost = _ledger.Remove(silo);
            _withdrawn.Remove(silo);
            LogTrainerGone(logger, silo, lost.Count);
        }
    }

    private bool IsLive(string silo)
    {
        try
        {
            return membership.CurrentSnapshot.GetSiloStatus(SiloAddress.FromParsableString(silo)) == SiloStatus.Active;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Calls the leased fold with the placement hint set to its silo and the assignment naming its device.</summary>
    private void Send(SlotLease lease, Func<IFoldGrain, FoldAssignment, Task> call)
    {
        if (!_assignments.TryGetValue(lease.FoldKey, out var assignment))
        {
            return;   // known from an advert only: nothing to send it
        }

        var fold = GrainFactory.GetGrain<IFoldGrain>(lease.FoldKey);
        var previous = RequestContext.Get(IPlacementDirector.PlacementHintKey);
        RequestContext.Set(IPlacementDirector.PlacementHintKey, SiloAddress.FromParsableString(lease.Silo));
        Task sent;
        try
        {
            sent = call(fold, assignment with { Device = lease.Device });   // the context travels with the message, taken here
        }
        finally
        {
            if (previous is null)
            {
                RequestContext.Remove(IPlacementDirector.PlacementHintKey);
            }
            else
            {
                RequestContext.Set(IPlacementDirector.PlacementHintKey, previous);
            }
        }

        _ = AfterSendAsync(sent, lease);
    }

    private async Task AfterSendAsync(Task sent, SlotLease lease)
    {
        try
        {
            await sent;
        }
        catch (Exception e)
        {
            // The silo went between the lease and the call: the slot is not held; the fold waits for the next one.
            LogSendFailed(logger, lease.FoldKey, lease.Silo, e.Message.Split('\n')[0]);
            if (_ledger.Release(lease.FoldKey, lease.Silo))
            {
                _ledger.Enqueue(lease.FoldKey, lease.SweepId);
            }
        }
    }

    private void Observe(Task call, string foldKey) => _ = call.ContinueWith(t => LogStopFailed(logger, foldKey, t.Exception!.GetBaseException().Message.Split('\n')[0]),
        CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "Trainer {Name} joined with {Slots} slot(s) ({Devices}); {Queued} fold(s) waiting")]
    private static partial void LogJoined(ILogger logger, string name, int slots, string devices, int queued);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "{Queued} fold(s) wait: no trainer silo has joined the cluster; they start when one does")]
    private static partial void LogStarved(ILogger logger, int queued);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Information, Message = "Trainer {Silo} left the cluster; {Leases} fold(s) it held move when their sweeps re-drive them")]
    private static partial void LogTrainerGone(ILogger logger, string silo, int leases);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "Starting fold {FoldKey} on {Silo} failed ({Reason}); it waits for another slot")]
    private static partial void LogSendFailed(ILogger logger, string foldKey, string silo, string reason);

    [LoggerMessage(EventId = 1406, Level = LogLevel.Warning, Message = "Stopping fold {FoldKey}, which no advert placed yet, failed ({Reason}); its trial's end stops it when it reports")]
    private static partial void LogStopFailed(ILogger logger, string foldKey, string reason);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Information, Message = "Trainer {Silo} is stopping: it takes no more folds")]
    private static partial void LogWithdrawn(ILogger logger, string silo);
}
