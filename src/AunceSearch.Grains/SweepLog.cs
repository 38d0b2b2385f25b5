using AunceSearch.Coordination;
using Orleans.Storage;

namespace AunceSearch.Grains;

/// <summary>
/// A run of a sweep's journal entries (inputs to its coordinator) as written before group commit: <see cref="SweepLog.SegmentSize"/>
/// at most, rewritten as it filled. Still read (a sweep stored then continues in <see cref="SweepLogBatch"/> records).
/// </summary>
[GenerateSerializer, Alias("aunce.sweep-log-segment")]
public sealed class SweepLogSegment
{
    [Id(0)] public List<string> Entries { get; set; } = [];
}

/// <summary>
/// The entries of one journal write (group commit): every entry the sweep accepted since its previous write, written once
/// as a new record and never rewritten. <see cref="First"/> is the number of entries before them.
/// </summary>
[GenerateSerializer, Alias("aunce.sweep-log-batch")]
public sealed class SweepLogBatch
{
    [Id(0)] public long First { get; set; }

    [Id(1)] public List<string> Entries { get; set; } = [];
}

/// <summary>
/// The coordinator's state after the first <see cref="Inputs"/> entries of the journal: in <see cref="Chunks"/> records of
/// generation <see cref="Generation"/> (<see cref="SweepSnapshotChunk"/>, <see cref="Length"/> bytes in all), or, as
/// written before snapshots were split, in <see cref="Data"/>.
/// </summary>
[GenerateSerializer, Alias("aunce.sweep-snapshot")]
public sealed class SweepSnapshot
{
    [Id(0)] public byte[] Data { get; set; } = [];

    [Id(1)] public long Inputs { get; set; }

    [Id(2)] public int Chunks { get; set; }

    [Id(3)] public long Generation { get; set; }

    [Id(4)] public long Length { get; set; }

    /// <summary>The first <see cref="SweepLogBatch"/> that may hold entries after <see cref="Inputs"/> (0 in snapshots written before batches).</summary>
    [Id(5)] public long FromBatch { get; set; }
}

/// <summary>One part of a split snapshot (<see cref="SweepLog.SnapshotChunkBytes"/> at most).</summary>
[GenerateSerializer, Alias("aunce.sweep-snapshot-chunk")]
public sealed class SweepSnapshotChunk
{
    [Id(0)] public byte[] Data { get; set; } = [];
}

/// <summary>
/// A sweep's append-only journal in any Orleans grain storage (files embedded, Redis or Azure in a cluster): one record per
/// write (group commit: <see cref="SweepLogBatch"/>, every entry accepted since the previous write, split only past
/// <see cref="MaxBatchBytes"/>), created once and never rewritten, plus one snapshot record. A write costs O(entries it
/// carries), whatever the sweep's size; a snapshot is taken when the entries written since the last one outweigh it (so
/// snapshots cost at most as much again, amortised) and bounds the replay. Concurrency is the storage's ETag: a record is
/// created only where none exists, so a second activation of the sweep that wrote in between is refused. Journals
/// written before group commit (16-entry <see cref="SweepLogSegment"/>s) are read, and continue in batches.
/// </summary>
public sealed class SweepLog(IGrainStorage storage, string sweepId, Action<int, TimeSpan, Exception>? onRetry = null, int snapshotChunkBytes = SweepLog.SnapshotChunkBytes,
    StorageRetry? retry = null)
{
    /// <summary>
    /// The most bytes one stored record of a snapshot holds. A 100,000-trial sweep's snapshot is hundreds of MB; one record
    /// of it would near Redis's 512 MB value limit and be read as one string (4 GB at peak, measured). Chunks are written
    /// first and the snapshot record naming them last, so a crash in between leaves the previous snapshot in force.
    /// </summary>
    public const int SnapshotChunkBytes = 16 * 1024 * 1024;

    /// <summary>
    /// How long one journal write may keep failing (a Redis restart, a full disk being cleared) before the sweep gives up:
    /// inside Orleans' 30 s call timeout, so a report waiting on the write fails cleanly instead of timing out. A write
    /// whose ETag no longer matches (another activation wrote) is never retried.
    /// </summary>
    public static readonly TimeSpan RetryBudget = TimeSpan.FromSeconds(20);

    /// <summary>The entries of an old-layout segment (<see cref="SweepLogSegment"/>, read only).</summary>
    public const int SegmentSize = 16;

    /// <summary>The most bytes of entries one batch record holds (a write of more is split): far below any store's value limit.</summary>
    public const int MaxBatchBytes = 4 * 1024 * 1024;

    /// <summary>Below this many bytes of entries since the last snapshot, none is taken (a small sweep replays from the start).</summary>
    public const long MinSnapshotInterval = 256 * 1024;

    private const string SegmentState = "sweep-log";   // old segments and batches alike: one state name, told apart by their grain ids
    private const string SnapshotState = "sweep-snapshot";
    private const string ChunkState = "sweep-snapshot-chunk";

    /// <summary>The index the next batch record takes.</summary>
    private long _nextBatch;

    /// <summary>(batch index, entries before it) of the batches since the last snapshot's: where a new snapshot's readers start.</summary>
    private readonly List<(long Index, long First)> _batches = [];
    private Stored<SweepSnapshot> _snapshot = new(new SweepSnapshot());
    private long _bytesSinceSnapshot;
    private long _lastSnapshotBytes;

    /// <summary>Entries in storage.</summary>
    public long Count { get; private set; }

    /// <summary>Bytes written so far by this instance (entries as stored per segment write, and snapshots): what the coordinator benchmark reports.</summary>
    public long BytesWritten { get; private set; }

    public long Writes { get; private set; }

    /// <summary>Reads the snapshot and the entries after it. A damaged entry is an <see cref="InvalidDataException"/> naming its record.</summary>
    public async Task<(byte[]? Snapshot, IReadOnlyList<SweepInput> Entries)> ReadAsync()
    {
        _snapshot = new Stored<SweepSnapshot>(new SweepSnapshot());
        await storage.ReadStateAsync(SnapshotState, SnapshotId(), _snapshot);
        var from = _snapshot.RecordExists ? _snapshot.State.Inputs : 0;
        var snapshot = _snapshot.RecordExists ? await ReadSnapshotDataAsync(_snapshot.State) : null;
        _lastSnapshotBytes = snapshot?.Length ?? 0;
        var entries = new List<SweepInput>();
        Count = from;

        // Written before group commit: 16-entry segments, the last one possibly part filled.
        for (var index = from / SegmentSize; ; index++)
        {
            var segment = new Stored<SweepLogSegment>(new SweepLogSegment());
            await storage.ReadStateAsync(SegmentState, SegmentId(index), segment);
            if (!segment.RecordExists)
            {
                break;
            }

            var skip = (int)Math.Max(0, from - (index * SegmentSize));
            for (var k = skip; k < segment.State.Entries.Count; k++)
            {
                entries.Add(SweepJournalCodec.Decode(segment.State.Entries[k], $"sweep {sweepId} journal segment {index} entry {k}"));
                _bytesSinceSnapshot += segment.State.Entries[k].Length;
            }

            Count = Math.Max(Count, (index * SegmentSize) + segment.State.Entries.Count);   // a snapshot may cover more than the segments hold
            if (segment.State.Entries.Count < SegmentSize)
            {
                break;
            }
        }

        // Batches, each one write's entries, from the first the snapshot may not cover.
        _batches.Clear();
        for (var index = _snapshot.RecordExists ? _snapshot.State.FromBatch : 0; ; index++)
        {
            var batch = new Stored<SweepLogBatch>(new SweepLogBatch());
            await storage.ReadStateAsync(SegmentState, BatchId(index), batch);
            if (!batch.RecordExists)
            {
                _nextBatch = index;
                break;
            }

            var first = batch.State.First;
            if (first > Count)
            {
                throw new InvalidDataException($"sweep {sweepId}: journal batch {index} starts at entry {first}, but the journal before it holds {Count} (a record is missing)");
            }

            _batches.Add((index, first));
            for (var k = (int)Math.Max(0, Count - first); k < batch.State.Entries.Count; k++)
            {
                entries.Add(SweepJournalCodec.Decode(batch.State.Entries[k], $"sweep {sweepId} journal batch {index} entry {k}"));
                _bytesSinceSnapshot += batch.State.Entries[k].Length;
            }

            Count = Math.Max(Count, first + batch.State.Entries.Count);
        }

        return (snapshot, entries);
    }

    /// <summary>
    /// The sweep's coordinator as stored: the snapshot, with every entry after it applied (what a sweep grain activates with,
    /// and what a reader without a silo replays). <paramref name="mismatch"/> hears of an entry that changed nothing, with the
    /// inputs applied before it.
    /// </summary>
    public async Task<SweepCoordinator> RestoreAsync(Action<SweepInput, long>? mismatch = null)
    {
        var (snapshot, entries) = await ReadAsync();
        var coordinator = new SweepCoordinator(sweepId, (trial, fold, epoch) => Checkpoints.CheckpointKeys.ForEpoch(sweepId, trial, fold, epoch), snapshot);
        foreach (var entry in entries)
        {
            if (!coordinator.Apply(entry).Changed)
            {
                mismatch?.Invoke(entry, coordinator.Inputs);
            }
        }

        return coordinator;
    }

    /// <summary>The snapshot's bytes: its chunks in order, checked against the length the snapshot record gives.</summary>
    private async Task<byte[]> ReadSnapshotDataAsync(SweepSnapshot header)
    {
        if (header.Chunks == 0)
        {
            return header.Data;   // written before snapshots were split
        }

        // The chunks are read at once, off the grain's scheduler: decoding a record is CPU work, and a sweep's snapshot can
        // be hundreds of MB (its activation waits on this).
        var parts = new byte[header.Chunks][];
        await Parallel.ForEachAsync(Enumerable.Range(0, header.Chunks), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) },
            async (i, _) =>
            {
                var chunk = new Stored<SweepSnapshotChunk>(new SweepSnapshotChunk());
                await storage.ReadStateAsync(ChunkState, ChunkId(header.Generation, i), chunk);
                parts[i] = chunk.RecordExists ? chunk.State.Data
                    : throw new InvalidDataException($"sweep {sweepId}: snapshot generation {header.Generation} chunk {i} of {header.Chunks} is missing");
            });
        var total = parts.Sum(p => (long)p.Length);
        if (total != header.Length)
        {
            throw new InvalidDataException($"sweep {sweepId}: snapshot generation {header.Generation} holds {total} bytes in its chunks, {header.Length} expected");
        }

        var data = GC.AllocateUninitializedArray<byte>(checked((int)header.Length));
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(data.AsSpan(offset));
            offset += part.Length;
        }

        return data;
    }

    /// <summary>
    /// Appends <paramref name="entries"/> in one write (group commit: one new record however many there are, split only past
    /// <see cref="MaxBatchBytes"/>). A record already there (another activation wrote) is an <see cref="InconsistentStateException"/>.
    /// </summary>
    public async Task AppendAsync(IReadOnlyList<string> entries)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var at = 0;
        while (at < entries.Count)
        {
            var batch = new SweepLogBatch { First = Count };
            long bytes = 0;
            while (at < entries.Count && (batch.Entries.Count == 0 || bytes + entries[at].Length <= MaxBatchBytes))
            {
                batch.Entries.Add(entries[at]);
                bytes += entries[at].Length;
                at++;
            }

            var index = _nextBatch;
            var record = new Stored<SweepLogBatch>(batch);   // no ETag: created where none exists, never rewritten
            await WriteAsync(() => storage.WriteStateAsync(SegmentState, BatchId(index), record));
            _nextBatch = index + 1;
            _batches.Add((index, batch.First));
            Count += batch.Entries.Count;
            _bytesSinceSnapshot += bytes;
            BytesWritten += bytes;
            AunceTelemetry.JournalBytes.Add(bytes, SweepTag);
            Writes++;
        }

        AunceTelemetry.JournalAppends.Add(entries.Count, SweepTag);
        AunceTelemetry.JournalSeconds.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, SweepTag);
    }

    private KeyValuePair<string, object?> SweepTag => new("aunce.sweep", sweepId);

    /// <summary>Whether the entries since the last snapshot outweigh it: time for a new one.</summary>
    public bool SnapshotDue => _bytesSinceSnapshot >= Math.Max(MinSnapshotInterval, _lastSnapshotBytes);

    /// <summary>Bytes of entries stored since the last snapshot.</summary>
    public long BytesSinceSnapshot => _bytesSinceSnapshot;

    /// <summary>
    /// Stores the coordinator's state after the first <paramref name="inputs"/> entries (all of them in storage), which
    /// <paramref name="covering"/> bytes of entries since the previous snapshot led to (<see cref="BytesSinceSnapshot"/>
    /// when the state was captured, all of them by default; entries appended while this writes count towards the next one). Appends may run
    /// while it writes: they touch other records.
    /// </summary>
    public async Task WriteSnapshotAsync(byte[] data, long inputs, long covering = long.MaxValue)
    {
        var previous = _snapshot.RecordExists ? _snapshot.State : null;
        var generation = (previous?.Generation ?? 0) + 1;
        var chunks = (data.Length + snapshotChunkBytes - 1) / snapshotChunkBytes;
        for (var i = 0; i < chunks; i++)
        {
            // A chunk of this generation may be there already (a crash after some chunks, before the snapshot record):
            // read its ETag so that it is overwritten, not refused as another writer's.
            var id = ChunkId(generation, i);
            var chunk = new Stored<SweepSnapshotChunk>(new SweepSnapshotChunk());
            await storage.ReadStateAsync(ChunkState, id, chunk);
            chunk.State = new SweepSnapshotChunk { Data = data.AsSpan(i * snapshotChunkBytes, Math.Min(snapshotChunkBytes, data.Length - (i * snapshotChunkBytes))).ToArray() };
            await WriteAsync(() => storage.WriteStateAsync(ChunkState, id, chunk));
            Writes++;
        }

        // Readers start at the last batch that begins at or before the covered entries (the batches before it are covered).
        var fromBatch = _batches.Where(b => b.First <= inputs).Select(b => b.Index).DefaultIfEmpty(_batches.Count > 0 ? _batches[0].Index : _nextBatch).Max();
        _snapshot.State = new SweepSnapshot { Inputs = inputs, Chunks = chunks, Generation = generation, Length = data.Length, FromBatch = fromBatch };
        await WriteAsync(() => storage.WriteStateAsync(SnapshotState, SnapshotId(), _snapshot));
        BytesWritten += data.Length;
        AunceTelemetry.JournalBytes.Add(data.Length, SweepTag);
        Writes++;
        _lastSnapshotBytes = data.Length;
        _bytesSinceSnapshot = Math.Max(0, _bytesSinceSnapshot - covering);
        _batches.RemoveAll(b => b.Index < fromBatch);

        // The previous generation is no longer named by anything: its chunks go (a failure here leaves only unread records).
        for (var i = 0; i < (previous?.Chunks ?? 0); i++)
        {
            var old = new Stored<SweepSnapshotChunk>(new SweepSnapshotChunk());
            try
            {
                await storage.ReadStateAsync(ChunkState, ChunkId(previous!.Generation, i), old);
                if (old.RecordExists)
                {
                    await storage.ClearStateAsync(ChunkState, ChunkId(previous.Generation, i), old);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The new snapshot is committed; an old chunk left behind costs storage, never correctness.
                _ = e;
                break;
            }
        }
    }

    /// <summary>One storage write, tried again with backoff while the store is out (the same state and ETag each time).</summary>
    private Task WriteAsync(Func<Task> write) => (retry ?? StorageRetry.Default).RunAsync(async () =>
    {
        await write();
        return true;
    }, (attempt, delay, e) => onRetry?.Invoke(attempt, delay, e), RetryBudget, permanent: e => e is InconsistentStateException);

    private sealed class Stored<T>(T state) : IGrainState<T?>
        where T : class, new()
    {
        private T _state = state;

        public T State
        {
            get => _state;
            set => _state = value;
        }

        T? IGrainState<T?>.State
        {
            get => _state;
            set => _state = value ?? new T();
        }

        public string? ETag { get; set; }

        public bool RecordExists { get; set; }
    }

    private GrainId SegmentId(long index) => GrainId.Create("aunce-sweep-log", $"{sweepId}/{index:D9}");

    private GrainId BatchId(long index) => GrainId.Create("aunce-sweep-log-batch", $"{sweepId}/{index:D12}");

    private GrainId SnapshotId() => GrainId.Create("aunce-sweep-snapshot", sweepId);

    private GrainId ChunkId(long generation, int index) => GrainId.Create("aunce-sweep-snapshot-chunk", $"{sweepId}/{generation:D9}/{index:D6}");
}
