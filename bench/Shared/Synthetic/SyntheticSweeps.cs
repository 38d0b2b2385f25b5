using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using AunceSearch.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace AunceSearch.Bench.Synthetic;

/// <summary>Benchmark and test scaffolding. Writes a finished synthetic sweep (<see cref="SyntheticSweep"/>) into the cluster's sweep storage, where it loads like any other.</summary>
public static class SyntheticSweeps
{
    /// <summary>
    /// Stores a synthetic sweep of <paramref name="trials"/> trials under <paramref name="sweepId"/> and activates it (it
    /// then lists itself in the sweep directory). Refuses an id that already has a journal.
    /// </summary>
    public static async Task<SweepOverview> WriteAsync(IServiceProvider services, SweepDefinition definition, string sweepId, int trials)
    {
        if (GrainKeys.SweepIdProblem(sweepId) is { } problem)
        {
            throw new ArgumentException(problem, nameof(sweepId));
        }

        var log = new SweepLog(services.GetRequiredKeyedService<IGrainStorage>(GrainStorageNames.Sweeps), sweepId);
        var (snapshot, entries) = await log.ReadAsync();
        if (snapshot is not null || entries.Count > 0)
        {
            throw new InvalidOperationException($"sweep '{sweepId}' already has a journal; a synthetic sweep needs a new id");
        }

        var data = await Task.Run(() => SyntheticSweep.Snapshot(definition, sweepId, trials, (t, f, e) => CheckpointKeys.ForEpoch(sweepId, t, f, e)));
        await log.WriteSnapshotAsync(data, trials);
        return await services.GetRequiredService<IGrainFactory>().GetGrain<ISweepGrain>(sweepId).GetOverviewAsync()
            ?? throw new InvalidOperationException($"sweep '{sweepId}': the synthetic snapshot did not load");
    }
}
