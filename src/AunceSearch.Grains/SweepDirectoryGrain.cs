using AunceSearch.Contracts;
using AunceSearch.Grains.Placement;

namespace AunceSearch.Grains;

/// <summary>The cluster's list of sweeps, in grain storage (files embedded, Redis on a cluster).</summary>
[GenerateSerializer, Alias("aunce.sweep-directory-state")]
public sealed class SweepDirectoryState
{
    [Id(0)] public List<SweepListing> Sweeps { get; set; } = [];
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
}
