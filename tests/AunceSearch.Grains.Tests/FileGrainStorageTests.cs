using AunceSearch.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace AunceSearch.Grains.Tests;

public sealed class FileGrainStorageTests
{
    private sealed record Counter(int Value, string Note);

    private static readonly GrainId Grain = GrainId.Create("sweep", "demo-20261129/odd key");

    [Fact]
    public async Task State_round_trips_across_instances_and_a_stale_etag_is_refused()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        var storage = new FileGrainStorage("sweeps", dir, new JsonStorageSerializer());
        var state = new GrainState<Counter>(new Counter(0, ""));
        await storage.ReadStateAsync("sweep", Grain, state);
        Assert.False(state.RecordExists);

        state.State = new Counter(7, "seven");
        await storage.WriteStateAsync("sweep", Grain, state);
        var stale = state.ETag;

        // Another process (a restarted CLI) reads what was written.
        var again = new GrainState<Counter>(new Counter(0, ""));
        await new FileGrainStorage("sweeps", dir, new JsonStorageSerializer()).ReadStateAsync("sweep", Grain, again);
        Assert.True(again.RecordExists);
        Assert.Equal(new Counter(7, "seven"), again.State);

        again.State = new Counter(8, "eight");
        await storage.WriteStateAsync("sweep", Grain, again);
        state.ETag = stale;
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("sweep", Grain, state));

        // A crash mid-write leaves a temporary file beside the state, never a torn state.
        var file = Assert.Single(Directory.GetFiles(dir, "*.bin", SearchOption.AllDirectories));
        await File.WriteAllTextAsync(file + ".tmp-crashed", "{\"Value\": 9");
        var after = new GrainState<Counter>(new Counter(0, ""));
        await storage.ReadStateAsync("sweep", Grain, after);
        Assert.Equal(new Counter(8, "eight"), after.State);
    }

    [Fact]
    public async Task A_damaged_state_file_is_reported_with_its_path()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        var storage = new FileGrainStorage("sweeps", dir, new JsonStorageSerializer());
        await storage.WriteStateAsync("sweep", Grain, new GrainState<Counter>(new Counter(1, "one")));
        var file = Assert.Single(Directory.GetFiles(dir, "*.bin", SearchOption.AllDirectories));
        await File.WriteAllTextAsync(file, "{\"Value\": 1, \"No");
        var e = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ReadStateAsync("sweep", Grain, new GrainState<Counter>(new Counter(0, ""))));
        Assert.Contains(file, e.Message);
    }

    [Fact]
    public async Task Sweep_records_are_stored_binary_and_records_an_earlier_version_wrote_as_json_still_read()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        var orleans = new ServiceCollection().AddSerializer().BuildServiceProvider()
            .GetRequiredService<Serializer>();
        var id = GrainId.Create("aunce-sweep-snapshot-chunk", "s/000000001/000000");
        var data = Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 31)).ToArray();

        // As an earlier version wrote it: JSON, the bytes in base64.
        await new FileGrainStorage("aunce", dir, new JsonStorageSerializer()).WriteStateAsync("sweep-snapshot-chunk", id,
            new GrainState<SweepSnapshotChunk>(new SweepSnapshotChunk { Data = data }));
        var file = Assert.Single(Directory.GetFiles(dir, "*.bin", SearchOption.AllDirectories));
        Assert.True(new FileInfo(file).Length > 4_000_000, "the earlier form is base64");

        var storage = new FileGrainStorage("aunce", dir, new SweepStorageSerializer(orleans, new JsonStorageSerializer()));
        var read = new GrainState<SweepSnapshotChunk>(new SweepSnapshotChunk());
        await storage.ReadStateAsync("sweep-snapshot-chunk", id, read);
        Assert.Equal(data, read.State!.Data);

        // Written again, it is binary: its size is the data's plus a few bytes, and it reads back the same.
        await storage.WriteStateAsync("sweep-snapshot-chunk", id, read);
        Assert.InRange(new FileInfo(file).Length, data.Length, data.Length + 64);
        Assert.StartsWith("AUNCE-ORLEANS/1\n", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(file).AsSpan(0, 16)));
        var again = new GrainState<SweepSnapshotChunk>(new SweepSnapshotChunk());
        await storage.ReadStateAsync("sweep-snapshot-chunk", id, again);
        Assert.Equal(data, again.State!.Data);
    }
}
