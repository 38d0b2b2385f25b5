namespace AunceSearch.Contracts;

/// <summary>One training device of a trainer silo: its index ("cuda:1"), kind, memory and how many folds may train on it at once.</summary>
[GenerateSerializer, Immutable, Alias("aunce.slot-device")]
public sealed record SlotDevice(
    [property: Id(0)] int Index,
    [property: Id(1)] string Kind,
    [property: Id(2)] long MemoryBytes,
    [property: Id(3)] int Slots);

/// <summary>A fold training on a trainer silo now, on device <see cref="Device"/>.</summary>
[GenerateSerializer, Immutable, Alias("aunce.running-fold")]
public sealed record RunningFold(
    [property: Id(0)] string FoldKey,
    [property: Id(1)] string SweepId,
    [property: Id(2)] int Device);

/// <summary>What a trainer silo tells the slot director every few seconds: who it is, its devices and what trains on it.</summary>
[GenerateSerializer, Immutable, Alias("aunce.trainer-advert")]
public sealed record TrainerAdvert(
    [property: Id(0)] string Silo,
    [property: Id(1)] string Name,
    [property: Id(2)] SlotDevice[] Devices,
    [property: Id(3)] RunningFold[] Running);

/// <summary>A trainer silo's slots as the director sees them.</summary>
[GenerateSerializer, Immutable, Alias("aunce.trainer-slots")]
public sealed record TrainerSlots(
    [property: Id(0)] string Silo,
    [property: Id(1)] string Name,
    [property: Id(2)] SlotDevice[] Devices,
    [property: Id(3)] int Busy);

/// <summary>A sweep's folds holding slots and waiting for one.</summary>
[GenerateSerializer, Immutable, Alias("aunce.sweep-slots")]
public sealed record SweepSlots(
    [property: Id(0)] string SweepId,
    [property: Id(1)] int Held,
    [property: Id(2)] int Queued);

/// <summary>The cluster's training slots: trainers, per-sweep use, totals.</summary>
[GenerateSerializer, Immutable, Alias("aunce.slot-status")]
public sealed record SlotStatus(
    [property: Id(0)] TrainerSlots[] Trainers,
    [property: Id(1)] SweepSlots[] Sweeps,
    [property: Id(2)] int Total,
    [property: Id(3)] int Busy,
    [property: Id(4)] int Queued)
{
    /// <summary>Why folds wait, in words, or null when none does.</summary>
    public string? Waiting => Queued == 0 ? null
        : Trainers.Length == 0 ? $"{Queued} fold(s) wait: no trainer silo has joined the cluster (start a silo with Aunce:Silo:Trainer=true)"
        : $"{Queued} fold(s) wait for a free slot ({Busy} of {Total} busy on {Trainers.Length} trainer silo(s))";

    /// <summary>The folds of <paramref name="sweepId"/> that wait.</summary>
    public int QueuedFor(string sweepId) => Sweeps.FirstOrDefault(s => s.SweepId == sweepId)?.Queued ?? 0;
}

/// <summary>
/// The cluster's slot director (key: <see cref="GrainKeys.SlotDirector"/>): the one queue of folds waiting to train and
/// the ledger of which fold holds which trainer slot. Trials hand it their folds instead of activating them; it starts
/// each on a trainer silo with a free slot (Orleans' placement hint names the silo, the assignment the device), fairly
/// across sweeps. A fold that finds no free slot waits here — never a failed call — until a slot frees or a trainer joins.
/// </summary>
[Alias("aunce.slot-director-grain")]
public interface ISlotDirectorGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts these folds as slots allow. A fold already holding a slot is sent the start on its silo (it ignores it while
    /// it trains); one already waiting keeps its place with the newer assignment.
    /// </summary>
    Task EnqueueAsync(FoldAssignment[] folds);

    /// <summary>The re-drive: a fold holding a slot on a live trainer is made sure to train there; any other is queued.</summary>
    Task EnsureAsync(FoldAssignment[] folds);

    /// <summary>Stops these folds of a trial: waiting ones leave the queue (returned: they never started), others are told to stop.</summary>
    Task<int[]> CancelAsync(string sweepId, int trial, int[] folds);

    /// <summary>A fold's leg ended on <paramref name="silo"/>: its slot is free.</summary>
    Task ReleaseAsync(string foldKey, string silo);

    /// <summary>A trainer silo's periodic advert (its slots and running folds).</summary>
    Task AdvertiseAsync(TrainerAdvert advert);

    /// <summary>A trainer silo is stopping: it takes no more folds.</summary>
    Task WithdrawAsync(string silo);

    Task<SlotStatus> GetStatusAsync();
}
