using AunceSearch.Contracts;
using AunceSearch.Coordination;
using AunceSearch.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace AunceSearch.Hosting;

/// <summary>
/// A sweep's one record — the journal its <see cref="SweepGrain"/> keeps in grain storage — read without a silo, from the
/// files an embedded silo stores (<c>Aunce:Silo:GrainStorage=file</c>): the same snapshot and entries, replayed by the same
/// pure <see cref="SweepCoordinator"/> the grain restores itself with, so <c>aunce sweep status</c>, <c>list</c> and
/// <c>explain</c> say exactly what the grain (and the API) would. Read while another process writes, a record can change
/// under the reader (a snapshot replacing segments): that read fails and is taken again.
/// </summary>
public static class SweepRecord
{
    private static readonly Lazy<Serializer> Serializer = new(() =>
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>());

    /// <summary>The sweep's status as its journal in <paramref name="statePath"/> has it, or null when the folder holds no journal of it.</summary>
    public static async Task<SweepStatus?> ReadStatusAsync(string statePath, string sweepId, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(statePath))
        {
            return null;
        }

        var storage = new FileGrainStorage(GrainStorageNames.Sweeps, statePath, new SweepStorageSerializer(Serializer.Value, new WrittenBefore(statePath)));
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var coordinator = await new SweepLog(storage, sweepId).RestoreAsync();   // as the grain restores itself
                return coordinator.Inputs == 0 ? null : coordinator.Status(coordinator.Sequence);
            }
            catch (Exception e) when (attempt < 5 && e is InconsistentStateException or InvalidDataException or IOException)
            {
                await Task.Delay(50 * attempt, cancellationToken);   // the writer moved on between two reads: read again
            }
        }
    }

    /// <summary>
    /// Stores a coordinator snapshot (<see cref="CoordinatorSnapshot.Encode"/>) covering <paramref name="inputs"/> inputs as the
    /// record of a sweep that has none yet, in <paramref name="statePath"/>: how a tool or a test puts a sweep where an embedded
    /// silo (and <see cref="ReadStatusAsync"/>) finds it.
    /// </summary>
    public static async Task WriteSnapshotAsync(string statePath, string sweepId, byte[] snapshot, long inputs)
    {
        var log = new SweepLog(new FileGrainStorage(GrainStorageNames.Sweeps, statePath, new SweepStorageSerializer(Serializer.Value, new WrittenBefore(statePath))), sweepId);
        var (existing, entries) = await log.ReadAsync();
        if (existing is not null || entries.Count > 0)
        {
            throw new InvalidOperationException($"sweep '{sweepId}' already has a record in {statePath}");
        }

        await log.WriteSnapshotAsync(snapshot, inputs);
    }

    /// <summary>Records from before the binary form (JSON, no header) are read only by a silo (it has Orleans' JSON settings); a clear error here.</summary>
    private sealed class WrittenBefore(string statePath) : IGrainStorageSerializer
    {
        public BinaryData Serialize<T>(T? input) => throw new NotSupportedException("the sweep record reader only reads");

        public T Deserialize<T>(BinaryData input) => throw new InvalidDataException(
            $"{statePath}: a sweep record written by an older aunce (JSON form); aunce sweep resume (or aunce serve) rewrites it, after which it can be read here");
    }
}
