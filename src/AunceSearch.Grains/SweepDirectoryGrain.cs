using AunceSearch.Contracts;
using AunceSearch.Grains.Placement;

namespace AunceSearch.Grains;

/// <summary>The cluster's list of sweeps, in grain storage (files embedded, Redis on a cluster).</summary>
[GenerateSerializer, Alias("aunce.sweep-directory-state")]
public sealed class SweepDirectoryState
{
    [Id(0)] public List<SweepListing> Sweeps { get; set; } = [];

    /// <summary>The sweeps that are running (a silo's death re-drives them).</summary>
    [Id(1)] public HashSet<string> Running { get; set; } = [];
}

/// <summary>
/// One per cluster (key <see cref="GrainKeys.Directory"/>): sweeps register when their start is stored. Embedded silos of
/// two commands run at once in one folder (each its own cluster) share this record's file: a write refused because the
/// other wrote since (its ETag) reads the record again and applies the change to what is there.
/// </summary>
[RequireSiloMetadata(TrainerSilo.CoordinatorKey, "true")]
public sealed class SweepDirectoryGrain([PersistentState("sweep-directory", GrainStorageNames.Sweeps)] IPersistentState<SweepDirectoryState> state)
    : Grain, ISweepDirectoryGrain
{
    private const int MaxAttempts = 5;

    public Task AddAsync(SweepListing sweep) => UpdateAsync(s =>
    {
        if (s.Sweeps.Any(x => x.SweepId == sweep.SweepId))
        {
            return false;
        }

        s.Sweeps.Add(sweep);
        return true;
    });

    public Task<SweepListing[]> ListAsync() => Task.FromResult(state.State.Sweeps.ToArray());

    public Task SetRunningAsync(string sweepId, bool running) => UpdateAsync(s => running ? s.Running.Add(sweepId) : s.Running.Remove(sweepId));

    public Task<string[]> ListRunningAsync() => Task.FromResult(state.State.Running.Order(StringComparer.Ordinal).ToArray());

    /// <summary>Applies <paramref name="change"/> (true when it changed something) and stores it, again on the fresh record after a conflict.</summary>
    private async Task UpdateAsync(Func<SweepDirectoryState, bool> change)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (!change(state.State))
            {
                return;
            }

            try
            {
                await state.WriteStateAsync();
                return;
            }
            catch (Orleans.Storage.InconsistentStateException) when (attempt < MaxAttempts)
            {
                await state.ReadStateAsync();   // another silo wrote the record meanwhile: start from what it wrote
            }
        }
    }
}
