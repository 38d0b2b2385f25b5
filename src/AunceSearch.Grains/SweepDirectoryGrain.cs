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

/// <summary>One per cluster (key <see cref="GrainKeys.Directory"/>): sweeps register when their start is stored.</summary>
[RequireSiloMetadata(TrainerSilo.CoordinatorKey, "true")]
public sealed class SweepDirectoryGrain([PersistentState("sweep-directory", GrainStorageNames.Sweeps)] IPersistentState<SweepDirectoryState> state)
    : Grain, ISweepDirectoryGrain
{
    public async Task AddAsync(SweepListing sweep)
    {
        if (state.State.Sweeps.Any(s => s.SweepId == sweep.SweepId))
        {
            return;
        }

        state.State.Sweeps.Add(sweep);
        await state.WriteStateAsync();
    }

    public Task<SweepListing[]> ListAsync() => Task.FromResult(state.State.Sweeps.ToArray());

    public async Task SetRunningAsync(string sweepId, bool running)
    {
        if (running ? state.State.Running.Add(sweepId) : state.State.Running.Remove(sweepId))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<string[]> ListRunningAsync() => Task.FromResult(state.State.Running.Order(StringComparer.Ordinal).ToArray());
}
