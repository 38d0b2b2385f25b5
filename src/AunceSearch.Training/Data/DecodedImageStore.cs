using System.Collections.Concurrent;

namespace AunceSearch.Training.Data;

/// <summary>
/// A process's decoded images (<see cref="Shared"/>; tests make their own): each (file, size) is decoded at most once while it stays here, whatever fold, trial or
/// sweep asks for it (a fold's train and test splits together are the whole dataset, so a 3-fold sweep would otherwise
/// hold it three times). Everything here counts against one process-wide <see cref="BudgetBytes"/>. Images are held by
/// leases (<see cref="Hold"/>); images no lease holds stay for the next fold or trial and are evicted, least recently used
/// first, only when a new dataset needs the room. A dataset that cannot fit even then is streamed from disk instead.
/// </summary>
public sealed class DecodedImageStore
{
    /// <summary>The process's store: every fold the trainer opens uses it.</summary>
    public static DecodedImageStore Shared { get; } = new();

    /// <summary>Images decoded per step while filling: the extra memory a fill needs beyond the images themselves.</summary>
    public const int DecodeChunk = 256;

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Path, int Size), Entry> _entries = [];
    private long _held;
    private long _clock;
    private long _budget = DefaultBudgetBytes;

    /// <summary>The default budget: 40 % of the memory this process may use (the machine's, or its container's limit).</summary>
    public static long DefaultBudgetBytes => (long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 0.4);

    /// <summary>Bytes of decoded images the store may keep (<c>Aunce:Training:ImageCacheMiB</c> for <see cref="Shared"/>; default <see cref="DefaultBudgetBytes"/>).</summary>
    public long BudgetBytes
    {
        get => Interlocked.Read(ref _budget);
        set => Interlocked.Exchange(ref _budget, Math.Max(0, value));
    }

    /// <summary>Bytes of decoded images in memory now (held or kept for reuse).</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _held;
            }
        }
    }

    /// <summary>Whether the image of <paramref name="path"/> at <paramref name="size"/> is in memory now.</summary>
    public bool Contains(string path, int size)
    {
        lock (_gate)
        {
            return _entries.ContainsKey((path, size));
        }
    }

    /// <summary>Images in memory now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Images decoded so far by this store (each decode of a file at a size counts once until it is evicted).</summary>
    public long Decoded => Interlocked.Read(ref _decoded);

    private long _decoded;

    /// <summary>
    /// Holds every image of <paramref name="paths"/> at <paramref name="size"/>, decoding those not in memory (in parallel,
    /// <see cref="DecodeChunk"/> at a time), or returns null when they cannot fit the budget even after evicting every
    /// image no lease holds — unless <paramref name="force"/> (<c>dataset.cache: memory</c>), which goes over it. A bad
    /// image fails with its <paramref name="origin"/> (list line) or, with <paramref name="skipBad"/>, is left out: its
    /// row's pixels are null and the reason is in <see cref="ImageLease.Failures"/>.
    /// </summary>
    public ImageLease? Hold(IReadOnlyList<string> paths, int size, Func<int, string> origin, int workers, bool skipBad, bool force)
    {
        var bytes = 3L * size * size;
        var rows = new Entry?[paths.Count];
        var missing = new List<int>();
        var taken = new List<Entry>();
        lock (_gate)
        {
            var newKeys = new HashSet<(string, int)>();
            for (var i = 0; i < paths.Count; i++)
            {
                if (_entries.TryGetValue((paths[i], size), out var e))
                {
                    rows[i] = e;
                }
                else if (newKeys.Add((paths[i], size)))
                {
                    missing.Add(i);
                }
            }

            var need = missing.Count * bytes;
            if (_held + need > BudgetBytes && !Evict(_held + need - BudgetBytes, rows) && !force)
            {
                return null;
            }

            // Claimed now, filled below: a second fold asking for the same images meanwhile waits on them, never decodes them again.
            foreach (var i in missing)
            {
                var e = new Entry(paths[i], size) { Bytes = bytes };
                _entries[(paths[i], size)] = e;
                rows[i] = e;
                _held += bytes;
            }

            for (var i = 0; i < paths.Count; i++)
            {
                rows[i] ??= _entries[(paths[i], size)];   // a file the list names twice: one entry, claimed above
            }

            foreach (var e in rows.Distinct())
            {
                e!.Users++;
                e.LastUse = ++_clock;
                taken.Add(e);
            }
        }

        var lease = new ImageLease(this, taken);
        try
        {
            Fill(missing.Select(i => rows[i]!).ToList(), size, workers);
            foreach (var e in taken)
            {
                e.Ready.Wait();   // filled here, or by the fold that claimed it first
            }
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        var pixels = new byte[]?[paths.Count];
        for (var i = 0; i < paths.Count; i++)
        {
            var e = rows[i]!;
            if (e.Failure is { } failure)
            {
                if (!skipBad)
                {
                    lease.Dispose();
                    throw new DataFormatException($"{origin(i)}: {failure}");
                }

                lease.AddFailure(i, $"{origin(i)}: {failure}");
            }

            pixels[i] = e.Pixels;
        }

        lease.Rows = pixels;
        return lease;
    }

    /// <summary>Decodes the claimed entries, a chunk at a time; each entry becomes ready (with pixels or a failure) as its chunk ends.</summary>
    private void Fill(List<Entry> entries, int size, int workers)
    {
        var bytes = 3 * size * size;
        try
        {
            for (var start = 0; start < entries.Count; start += DecodeChunk)
            {
                var count = Math.Min(DecodeChunk, entries.Count - start);
                Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = workers > 0 ? workers : Environment.ProcessorCount }, j =>
                {
                    var e = entries[start + j];
                    var pixels = GC.AllocateUninitializedArray<byte>(bytes);
                    e.Failure = AuImages.TryDecode(e.Path, size, pixels);
                    e.Pixels = e.Failure is null ? pixels : null;
                    Interlocked.Increment(ref _decoded);
                });
                // A failed image is not kept: it holds no bytes, and a file mended later decodes the next time it is asked for.
                lock (_gate)
                {
                    for (var j = 0; j < count; j++)
                    {
                        var e = entries[start + j];
                        if (e.Failure is not null)
                        {
                            Drop(e);
                        }

                        e.Ready.Set();
                    }
                }
            }
        }
        finally
        {
            // Whatever was not decoded (an exception, e.g. out of memory) is dropped again, so the next fold tries it afresh.
            lock (_gate)
            {
                foreach (var e in entries.Where(e => !e.Ready.IsSet))
                {
                    e.Failure = "decoding was interrupted";
                    Drop(e);
                    e.Ready.Set();
                }
            }
        }
    }

    /// <summary>Frees at least <paramref name="bytes"/> by dropping images no lease holds (and none of <paramref name="keep"/>), least recently used first.</summary>
    private bool Evict(long bytes, Entry?[] keep)
    {
        var kept = keep.Where(e => e is not null).ToHashSet();
        var idle = _entries.Values.Where(e => e.Users == 0 && e.Ready.IsSet && !kept.Contains(e)).OrderBy(e => e.LastUse).ToList();
        if (idle.Sum(e => e.Bytes) < bytes)
        {
            return false;
        }

        var freed = 0L;
        foreach (var e in idle)
        {
            if (freed >= bytes)
            {
                break;
            }

            freed += e.Bytes;
            Drop(e);
        }

        return true;
    }

    /// <summary>Removes an entry (under the lock); whoever still holds its pixels keeps them until they let go.</summary>
    private void Drop(Entry e)
    {
        if (_entries.TryGetValue((e.Path, e.Size), out var current) && ReferenceEquals(current, e))
        {
            _entries.Remove((e.Path, e.Size));
            _held -= e.Bytes;
        }

        e.Bytes = 0;
    }

    internal void Release(IReadOnlyList<Entry> entries)
    {
        lock (_gate)
        {
            foreach (var e in entries)
            {
                e.Users--;
                e.LastUse = ++_clock;
            }
        }
    }

    internal sealed class Entry(string path, int size)
    {
        public string Path { get; } = path;

        public int Size { get; } = size;

        public byte[]? Pixels { get; set; }

        public string? Failure { get; set; }

        public int Users { get; set; }

        public long LastUse { get; set; }

        /// <summary>What it counts against the budget: 3·size² while it is claimed or holds pixels, 0 once dropped.</summary>
        public long Bytes { get; set; }

        public ManualResetEventSlim Ready { get; } = new();
    }
}

/// <summary>A fold's hold on its decoded images (row by row, as its split lists them); disposing it lets them be evicted.</summary>
public sealed class ImageLease : IDisposable
{
    private readonly DecodedImageStore _store;
    private readonly IReadOnlyList<DecodedImageStore.Entry> _entries;
    private readonly ConcurrentDictionary<int, string> _failures = new();
    private int _disposed;

    internal ImageLease(DecodedImageStore store, IReadOnlyList<DecodedImageStore.Entry> entries)
    {
        _store = store;
        _entries = entries;
    }

    /// <summary>Each row's pixels (3·size² bytes, CHW), or null for a row whose image failed (skip_bad).</summary>
    public IReadOnlyList<byte[]?> Rows { get; internal set; } = [];

    /// <summary>Rows whose image failed to decode, with "file:line: reason".</summary>
    public IReadOnlyDictionary<int, string> Failures => _failures;

    internal void AddFailure(int row, string message) => _failures[row] = message;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _store.Release(_entries);
        }
    }
}
