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
    public async Task Entries_across_segments_and_a_snapshot_read_back_and_each_write_stays_small()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        var storage = new FileGrainStorage("aunce", dir, new JsonStorageSerializer());
        var log = new SweepLog(storage, "s1");
        Assert.Empty((await log.ReadAsync()).Entries);

        // 100 entries in batches of 1..7: they cross three segment boundaries.
        var written = 0;
        var largest = 0L;
        for (var batch = 1; written < 100; batch = (batch % 7) + 1)
        {
            var n = Math.Min(batch, 100 - written);
            var before = log.BytesWritten;
            await log.AppendAsync([.. Enumerable.Range(written, n).Select(k => SweepJournalCodec.Encode(Entry(k)))]);
            largest = Math.Max(largest, log.BytesWritten - before);
            written += n;
            if (written is >= 40 and < 47)
            {
                await log.WriteSnapshotAsync([1, 2, 3], written);
            }
        }

        Assert.Equal(100, log.Count);
        var oneEntry = SweepJournalCodec.Encode(Entry(99)).Length;
        Assert.True(largest <= 2 * SweepLog.SegmentSize * oneEntry, $"a write of {largest} bytes: more than two segments");

        // A restarted sweep: the snapshot, then only the entries after it.
        var again = new SweepLog(new FileGrainStorage("aunce", dir, new JsonStorageSerializer()), "s1");
        var (snapshot, entries) = await again.ReadAsync();
        Assert.Equal([1, 2, 3], snapshot);
        var from = 100 - entries.Count;
        Assert.InRange(from, 40, 46);
        Assert.Equal(Enumerable.Range(from, 100 - from).Select(Entry), entries);
        Assert.Equal(100, again.Count);

        // It appends where the journal ended; the first instance, now stale, is refused (one writer per sweep).
        await again.AppendAsync([SweepJournalCodec.Encode(Entry(100))]);
        await Assert.ThrowsAsync<InconsistentStateException>(() => log.AppendAsync([SweepJournalCodec.Encode(Entry(100))]));
        Assert.Equal(101, (await new SweepLog(storage, "s1").ReadAsync()).Entries.Count + from);
    }

    [Fact]
    public async Task A_damaged_segment_is_an_error_naming_the_sweep_and_the_entry()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        var storage = new FileGrainStorage("aunce", dir, new JsonStorageSerializer());
        await new SweepLog(storage, "s2").AppendAsync([SweepJournalCodec.Encode(Entry(0)), "{\"$kind\":\"trial-ended\",\"Tri"]);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new SweepLog(storage, "s2").ReadAsync());
        Assert.StartsWith("sweep s2 journal segment 0 entry 1: not a sweep journal entry", e.Message);
    }
}
