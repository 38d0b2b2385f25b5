using AunceSearch.Contracts;
using AunceSearch.Coordination;
using AunceSearch.Hosting;
using Orleans.Storage;

namespace AunceSearch.Grains.Tests;

/// <summary>The sweep journal on grain storage: segments, a snapshot, reading back after a restart, and what a write costs.</summary>
public sealed class SweepLogTests
{
    private static SweepInput Entry(int k) => new TrialLegEnded(k, TrialState.Completed, null);

    [Fact]
    public async Task Entries_across_writes_and_a_snapshot_read_back_and_each_append_is_one_write()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        var storage = new FileGrainStorage("aunce", dir, new JsonStorageSerializer());
        var log = new SweepLog(storage, "s1");
        Assert.Empty((await log.ReadAsync()).Entries);

        // 100 entries in appends of 1..7: each append is one write of exactly its entries (group commit, no fixed cap).
        var written = 0;
        for (var batch = 1; written < 100; batch = (batch % 7) + 1)
        {
            var n = Math.Min(batch, 100 - written);
            var (bytes, writes) = (log.BytesWritten, log.Writes);
            var encoded = Enumerable.Range(written, n).Select(k => SweepJournalCodec.Encode(Entry(k))).ToList();
            await log.AppendAsync(encoded);
            Assert.Equal((writes + 1, bytes + encoded.Sum(e => (long)e.Length)), (log.Writes, log.BytesWritten));
            written += n;
            if (written is >= 40 and < 47)
            {
                await log.WriteSnapshotAsync([1, 2, 3], written);
            }
        }

        Assert.Equal(100, log.Count);

        // A thousand entries accepted during one write go out in the next one, not in 63 writes of 16.
        var writesBefore = log.Writes;
        await log.AppendAsync([.. Enumerable.Range(100, 1000).Select(k => SweepJournalCodec.Encode(Entry(k)))]);
        Assert.Equal(writesBefore + 1, log.Writes);
        Assert.Equal(1100, log.Count);

        // A restarted sweep: the snapshot, then only the entries after it.
        var again = new SweepLog(new FileGrainStorage("aunce", dir, new JsonStorageSerializer()), "s1");
        var (snapshot, entries) = await again.ReadAsync();
        Assert.Equal([1, 2, 3], snapshot);
        var from = 1100 - entries.Count;
        Assert.InRange(from, 40, 46);
        Assert.Equal(Enumerable.Range(from, 1100 - from).Select(Entry), entries);
        Assert.Equal(1100, again.Count);

        // It appends where the journal ended; the first instance, now stale, is refused (one writer per sweep).
        await again.AppendAsync([SweepJournalCodec.Encode(Entry(1100))]);
        await Assert.ThrowsAsync<InconsistentStateException>(() => log.AppendAsync([SweepJournalCodec.Encode(Entry(1100))]));
        Assert.Equal(1101, (await new SweepLog(storage, "s1").ReadAsync()).Entries.Count + from);
    }

    [Fact]
    public async Task A_large_snapshot_is_stored_in_bounded_chunks_committed_by_its_record_and_the_old_ones_go()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        var storage = new FileGrainStorage("aunce", dir, new JsonStorageSerializer());
        var log = new SweepLog(storage, "big", snapshotChunkBytes: 1000);
        await log.AppendAsync([SweepJournalCodec.Encode(Entry(0))]);
        var first = Enumerable.Range(0, 4500).Select(i => (byte)(i * 7)).ToArray();
        await log.WriteSnapshotAsync(first, 1);
        string[] Chunks() => [.. Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(f => f.Contains("sweep-snapshot-chunk", StringComparison.Ordinal))];
        Assert.Equal(5, Chunks().Length);   // 4 x 1000 + 500
        Assert.All(Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories), f => Assert.True(new FileInfo(f).Length < 2000, $"{f}: {new FileInfo(f).Length} bytes"));
        Assert.Equal(first, (await new SweepLog(storage, "big", snapshotChunkBytes: 1000).ReadAsync()).Snapshot);

        // The next snapshot replaces the chunks; then a crash after writing chunks but before the record: the last
        // committed snapshot is what is read, and the next writer overwrites the orphans.
        await log.AppendAsync([SweepJournalCodec.Encode(Entry(1))]);
        var second = Enumerable.Range(0, 2100).Select(i => (byte)(i * 3)).ToArray();
        await log.WriteSnapshotAsync(second, 2);
        Assert.Equal(3, Chunks().Length);
        var reader = new SweepLog(storage, "big", snapshotChunkBytes: 1000);
        Assert.Equal(second, (await reader.ReadAsync()).Snapshot);
        var crashing = new SweepLog(new FailingAfter(storage, "sweep-snapshot", 0), "big", snapshotChunkBytes: 1000);
        await crashing.ReadAsync();
        await Assert.ThrowsAsync<InconsistentStateException>(() => crashing.WriteSnapshotAsync(first, 2));
        var restarted = new SweepLog(storage, "big", snapshotChunkBytes: 1000);
        Assert.Equal(second, (await restarted.ReadAsync()).Snapshot);
        await restarted.WriteSnapshotAsync(first, 2);   // over the orphaned chunks of the crashed attempt
        Assert.Equal(first, (await new SweepLog(storage, "big").ReadAsync()).Snapshot);
    }

    [Fact]
    public async Task Appends_go_on_while_a_snapshot_is_written_and_count_towards_the_next_one()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        var held = new HeldChunks(new FileGrainStorage("aunce", dir, new JsonStorageSerializer()));
        var log = new SweepLog(held, "busy", snapshotChunkBytes: 1000);
        await log.AppendAsync([.. Enumerable.Range(0, 20).Select(k => SweepJournalCodec.Encode(Entry(k)))]);
        var covered = log.BytesSinceSnapshot;
        var snapshot = Enumerable.Range(0, 2500).Select(i => (byte)i).ToArray();
        var writing = log.WriteSnapshotAsync(snapshot, 20, covered);
        await held.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The snapshot's first chunk is being written: the journal still takes entries.
        var later = Enumerable.Range(20, 5).Select(k => SweepJournalCodec.Encode(Entry(k))).ToList();
        await log.AppendAsync(later).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(writing.IsCompleted);
        held.Release.SetResult();
        await writing;

        // Only the entries after the captured state count towards the next snapshot; a restart reads both.
        Assert.Equal(later.Sum(e => (long)e.Length), log.BytesSinceSnapshot);
        var (stored, entries) = await new SweepLog(held, "busy", snapshotChunkBytes: 1000).ReadAsync();
        Assert.Equal(snapshot, stored);
        Assert.Equal(Enumerable.Range(20, 5).Select(Entry), entries);
    }

    /// <summary>Storage that holds the first snapshot chunk write until released.</summary>
    private sealed class HeldChunks(IGrainStorage inner) : IGrainStorage
    {
        private int _held;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (stateName == "sweep-snapshot-chunk" && Interlocked.Exchange(ref _held, 1) == 0)
            {
                Started.SetResult();
                await Release.Task;
            }

            await inner.WriteStateAsync(stateName, grainId, grainState);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }

    [Fact]
    public async Task A_snapshot_stored_in_one_record_by_an_earlier_version_still_reads()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        var storage = new FileGrainStorage("aunce", dir, new JsonStorageSerializer());
        var legacy = new LegacyState { State = new SweepSnapshot { Data = [9, 8, 7], Inputs = 0 } };
        await storage.WriteStateAsync("sweep-snapshot", GrainId.Create("aunce-sweep-snapshot", "old"), legacy);
        Assert.Equal([9, 8, 7], (await new SweepLog(storage, "old").ReadAsync()).Snapshot);
    }

    [Fact]
    public async Task A_journal_written_in_16_entry_segments_reads_and_continues_in_batches_through_a_snapshot()
    {
        // As written before group commit: two full segments and a part-filled third (37 entries), then an old-form snapshot.
        var dir = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        var storage = new FileGrainStorage("aunce", dir, new JsonStorageSerializer());
        for (var index = 0; index < 3; index++)
        {
            var segment = new SegmentState { State = new SweepLogSegment { Entries = [.. Enumerable.Range(index * 16, index < 2 ? 16 : 5).Select(k => SweepJournalCodec.Encode(Entry(k)))] } };
            await storage.WriteStateAsync("sweep-log", GrainId.Create("aunce-sweep-log", $"old/{index:D9}"), segment);
        }

        var log = new SweepLog(storage, "old");
        Assert.Equal(Enumerable.Range(0, 37).Select(Entry), (await log.ReadAsync()).Entries);
        Assert.Equal(37, log.Count);

        // It goes on in batches; a snapshot inside the old segments, and one inside the batches, each read back exactly.
        await log.AppendAsync([.. Enumerable.Range(37, 10).Select(k => SweepJournalCodec.Encode(Entry(k)))]);
        await log.WriteSnapshotAsync([7], 20);
        Assert.Equal(Enumerable.Range(20, 27).Select(Entry), (await new SweepLog(storage, "old").ReadAsync()).Entries);
        await log.AppendAsync([.. Enumerable.Range(47, 3).Select(k => SweepJournalCodec.Encode(Entry(k)))]);
        await log.WriteSnapshotAsync([8], 44);
        await log.AppendAsync([SweepJournalCodec.Encode(Entry(50))]);
        var again = new SweepLog(storage, "old");
        var (snapshot, entries) = await again.ReadAsync();
        Assert.Equal([8], snapshot);
        Assert.Equal(Enumerable.Range(44, 7).Select(Entry), entries);
        Assert.Equal(51, again.Count);
    }

    private sealed class SegmentState : IGrainState<SweepLogSegment?>
    {
        public SweepLogSegment? State { get; set; } = new();

        public string? ETag { get; set; }

        public bool RecordExists { get; set; }
    }

    private sealed class LegacyState : IGrainState<SweepSnapshot?>
    {
        public SweepSnapshot? State { get; set; } = new();

        public string? ETag { get; set; }

        public bool RecordExists { get; set; }
    }

    /// <summary>Storage whose writes of <paramref name="failing"/> fail (after <paramref name="allowed"/> of them), as a crash would end them (with an error the journal does not retry).</summary>
    private sealed class FailingAfter(IGrainStorage inner, string failing, int allowed) : IGrainStorage
    {
        private int _writes;

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            stateName == failing && _writes++ >= allowed ? throw new InconsistentStateException("the process died here") : inner.WriteStateAsync(stateName, grainId, grainState);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }

    [Fact]
    public async Task A_damaged_entry_is_an_error_naming_the_sweep_its_record_and_the_entry()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        var storage = new FileGrainStorage("aunce", dir, new JsonStorageSerializer());
        await new SweepLog(storage, "s2").AppendAsync([SweepJournalCodec.Encode(Entry(0)), "{\"$kind\":\"trial-ended\",\"Tri"]);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new SweepLog(storage, "s2").ReadAsync());
        Assert.StartsWith("sweep s2 journal batch 0 entry 1: not a sweep journal entry", e.Message);
    }
}
