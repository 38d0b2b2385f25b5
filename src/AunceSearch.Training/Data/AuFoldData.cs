using System.Collections.Concurrent;
using System.Threading.Channels;
using AunceSearch.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Data;

/// <summary>A batch of one split: the rows it holds (skipped images left out), their uint8 images and 0/1 labels.</summary>
public sealed record LoadedBatch(long[] Indices, Tensor Images, Tensor Labels);

/// <summary>The images of one split: held decoded in memory (<see cref="DecodedImageStore"/>), or streamed from disk batch by batch.</summary>
public sealed class AuSplitImages
{
    private readonly IReadOnlyList<byte[]>? _memory;
    private readonly ConcurrentDictionary<long, string> _failures = new();

    internal AuSplitImages(AuSplit split, int size, IReadOnlyList<byte[]>? memory, int workers, int prefetch, bool skipBad)
    {
        Split = split;
        Labels = LabelTensor(split.Labels);
        Size = size;
        _memory = memory;
        Workers = workers;
        Prefetch = Math.Max(1, prefetch);
        SkipBad = skipBad;
    }

    /// <summary>A split whose images are decoded from disk batch by batch (no cache).</summary>
    public static AuSplitImages Streaming(AuSplit split, int size, int workers = 0, int prefetch = 4, bool skipBad = false)
    {
        return new AuSplitImages(split, size, null, workers, prefetch, skipBad);
    }

    public AuSplit Split { get; }

    /// <summary>(N, C) float labels on the CPU.</summary>
    public Tensor Labels { get; }

    public int Size { get; }

    public int Workers { get; }

    public int Prefetch { get; }

    public bool SkipBad { get; }

    public long Count => Split.Count;

    public bool InMemory => _memory is not null;

    /// <summary>Images that failed to decode while streaming and were skipped (skip_bad), "file:line: reason".</summary>
    public IReadOnlyCollection<string> RuntimeSkipped => _failures.Values.ToArray();

    /// <summary>
    /// The batches of <paramref name="order"/> (row indices) in chunks of <paramref name="batchSize"/>. Streaming decodes up to
    /// <see cref="Prefetch"/> batches ahead on background threads; the tensors are created on the calling thread, so they
    /// belong to its dispose scope.
    /// </summary>
    public IEnumerable<LoadedBatch> Batches(long[] order, int batchSize, CancellationToken cancellationToken)
    {
        if (_memory is { } rows)
        {
            // The batch is copied into its tensor (ByteTensor), so one buffer serves every batch of the pass (a new 12 MB array
            // per batch would pile up in the large-object heap until the next full collection).
            var bytes = 3 * Size * Size;
            byte[]? buffer = null;
            for (var start = 0; start < order.Length; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var idx = order[start..Math.Min(order.Length, start + batchSize)];
                var pixels = buffer is not null && buffer.Length == idx.Length * bytes ? buffer : GC.AllocateUninitializedArray<byte>(idx.Length * bytes);
                buffer ??= pixels;
                for (var j = 0; j < idx.Length; j++)
                {
                    rows[(int)idx[j]].CopyTo(pixels.AsSpan(j * bytes, bytes));
                }

                using var index = torch.tensor(idx);
                yield return new LoadedBatch(idx, ByteTensor(pixels, [idx.Length, 3, Size, Size]), Labels.index_select(0, index));
            }

            yield break;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<(long[] Kept, byte[] Pixels)>(new BoundedChannelOptions(Prefetch) { SingleReader = true, SingleWriter = true });
        var spare = new ConcurrentBag<byte[]>();   // batch buffers the consumer has copied out, for the producer to reuse
        var producer = Task.Run(() => Produce(order, batchSize, channel.Writer, spare, stop.Token), CancellationToken.None);
        try
        {
            while (true)
            {
                if (!channel.Reader.TryRead(out var item))
                {
                    // Blocking here is fine: this runs on the trainer's dedicated thread, never on an Orleans scheduler thread.
                    if (!channel.Reader.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
                    {
                        break;
                    }

                    continue;
                }

                var (kept, pixels) = item;
                if (kept.Length == 0)
                {
                    continue;
                }

                using var index = torch.tensor(kept);
                var batch = new LoadedBatch(kept, ByteTensor(pixels, [kept.Length, 3, Size, Size]), Labels.index_select(0, index));
                spare.Add(pixels);   // copied into the tensor: the producer may fill it again
                yield return batch;
            }
        }
        finally
        {
            stop.Cancel();
            try
            {
                producer.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>
    /// A uint8 tensor holding a copy of <paramref name="pixels"/>. Not torch.tensor(byte[]): that makes a managed copy of
    /// its own per call, pinned until the tensor is disposed and then left in the large-object heap for the next full
    /// collection — 12 MB a batch, which piled up to twice the decoded dataset over a 3-fold pass (measured).
    /// </summary>
    private static Tensor ByteTensor(byte[] pixels, long[] shape)
    {
        var t = torch.empty(shape, ScalarType.Byte);
        t.bytes = pixels;
        return t;
    }

    private static Tensor LabelTensor(float[,] labels)
    {
        var n = labels.GetLength(0);
        var c = labels.GetLength(1);
        var flat = new float[n * c];
        Buffer.BlockCopy(labels, 0, flat, 0, flat.Length * sizeof(float));
        return torch.tensor(flat, [n, c]).DetachFromDisposeScope();
    }

    private void Produce(long[] order, int batchSize, ChannelWriter<(long[], byte[])> writer, ConcurrentBag<byte[]> spare, CancellationToken token)
    {
        try
        {
            for (var start = 0; start < order.Length; start += batchSize)
            {
                token.ThrowIfCancellationRequested();
                var indices = order[start..Math.Min(order.Length, start + batchSize)];
                var reuse = spare.TryTake(out var b) && b.Length == indices.Length * 3 * Size * Size ? b : null;
                var (pixels, kept) = AuImages.DecodeMany(Split, indices, Size, Workers, SkipBad, _failures, reuse);
                writer.WriteAsync((kept, pixels), token).AsTask().GetAwaiter().GetResult();
            }

            writer.TryComplete();
        }
        catch (Exception e)
        {
            writer.TryComplete(e is OperationCanceledException ? null : e);
            if (e is not OperationCanceledException)
            {
                throw;
            }
        }
    }
}

/// <summary>
/// One fold's train and test splits with their images. Folds are opened with <see cref="Open"/> and shared while open: every
/// trial of the process training the same fold uses one instance (list files read once), and its images are held in the
/// process-wide <see cref="DecodedImageStore.Shared"/>, decoded once whatever the fold, so a 3-fold sweep holds its dataset once, not
/// three times. When its last user closes it, its images stay for reuse until a new dataset needs their room.
/// </summary>
public sealed class AuFoldData
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, Shared> Opened = new(StringComparer.Ordinal);

    private readonly ImageLease? _images;

    private AuFoldData(DatasetSource source, AuSplitImages train, AuSplitImages test, ImageLease? images)
    {
        Source = source;
        TrainImages = train;
        TestImages = test;
        _images = images;
    }

    public DatasetSource Source { get; }

    public AuSplitImages TrainImages { get; }

    public AuSplitImages TestImages { get; }

    public AuSplit Train => TrainImages.Split;

    public AuSplit Test => TestImages.Split;

    public Tensor TrainLabels => TrainImages.Labels;

    public Tensor TestLabels => TestImages.Labels;

    public IReadOnlyList<string> AuNames => Train.AuNames;

    /// <summary>Everything skipped so far (list rows, missing images, corrupt images), "file:line: reason".</summary>
    public IReadOnlyList<string> Skipped =>
        [.. Train.Skipped, .. Test.Skipped, .. TrainImages.RuntimeSkipped, .. TestImages.RuntimeSkipped];

    /// <summary>
    /// Opens a fold (or joins the instance already open): errors name the file and line. Dispose the lease when the fold's
    /// training ends.
    /// </summary>
    public static FoldDataLease Open(DatasetSource source)
    {
        Shared shared;
        lock (Gate)
        {
            if (!Opened.TryGetValue(source.Key, out shared!))
            {
                shared = new Shared(new Lazy<AuFoldData>(() => LoadUncached(source), LazyThreadSafetyMode.ExecutionAndPublication));
                Opened[source.Key] = shared;
            }

            shared.Users++;
        }

        try
        {
            return new FoldDataLease(shared.Data.Value, () => Close(source.Key, shared));
        }
        catch
        {
            Close(source.Key, shared);
            throw;
        }
    }

    private static void Close(string key, Shared shared)
    {
        lock (Gate)
        {
            if (--shared.Users > 0)
            {
                return;
            }

            if (Opened.TryGetValue(key, out var current) && ReferenceEquals(current, shared))
            {
                Opened.Remove(key);
            }
        }

        if (shared.Data.IsValueCreated)
        {
            shared.Data.Value._images?.Dispose();
        }
    }

    private sealed class Shared(Lazy<AuFoldData> data)
    {
        public Lazy<AuFoldData> Data { get; } = data;

        public int Users { get; set; }
    }

    /// <summary>The fold's splits without images: (train, test), subject-exclusive.</summary>
    public static (AuSplit Train, AuSplit Test) ReadSplits(DatasetSource s)
    {
        var (train, test) = s.Format switch
        {
            DatasetFormat.AunceList => (AuListReader.Read(s.Root, s.ListName, "train", s.Fold, s.AuNames, s.SkipBad),
                             AuListReader.Read(s.Root, s.ListName, "test", s.Fold, s.AuNames, s.SkipBad)),
            DatasetFormat.Table => AuTableReader.ReadFold(s),
            _ => throw new DataFormatException($"dataset.format: unknown format {(int)s.Format} (aunce-list or table)"),
        };
        var overlap = train.Subjects.Intersect(test.Subjects).ToList();
        if (overlap.Count > 0)
        {
            throw new DataFormatException(
                $"{s.Root}: fold {s.Fold} is not subject-exclusive: {overlap.Count} subject(s) in both train and test (e.g. {overlap[0]})");
        }

        if (!train.AuNames.SequenceEqual(test.AuNames))
        {
            throw new DataFormatException($"{s.Root}: fold {s.Fold}: train and test have different AUs");
        }

        return (train, test);
    }

    /// <summary>
    /// Reads the fold's lists and holds its images in memory (<c>cache: memory</c>, or <c>auto</c> when they fit the process's
    /// budget), else streams them.
    /// </summary>
    private static AuFoldData LoadUncached(DatasetSource s)
    {
        var (train, test) = ReadSplits(s);
        if (s.Cache == DataCacheMode.Stream)
        {
            return new AuFoldData(s, Streaming(train, s), Streaming(test, s), null);
        }

        var paths = train.ImagePaths.Concat(test.ImagePaths).ToList();
        string Origin(int row) => row < train.Count ? train.Origin(row) : test.Origin(row - train.Count);
        var lease = DecodedImageStore.Shared.Hold(paths, s.ImageSize, Origin, s.Workers, s.SkipBad, force: s.Cache == DataCacheMode.Memory);
        if (lease is null)
        {
            return new AuFoldData(s, Streaming(train, s), Streaming(test, s), null);
        }

        try
        {
            return new AuFoldData(s, Held(train, 0, lease, s), Held(test, train.Count, lease, s), lease);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    private static AuSplitImages Streaming(AuSplit split, DatasetSource s) => new(split, s.ImageSize, null, s.Workers, s.Prefetch, s.SkipBad);

    /// <summary>One split's rows of the fold's lease (<paramref name="offset"/>: where its rows start); rows whose image failed (skip_bad) are left out and named.</summary>
    private static AuSplitImages Held(AuSplit split, int offset, ImageLease lease, DatasetSource s)
    {
        var rows = new List<byte[]>(split.Count);
        var kept = new List<int>(split.Count);
        for (var i = 0; i < split.Count; i++)
        {
            if (lease.Rows[offset + i] is { } pixels)
            {
                rows.Add(pixels);
                kept.Add(i);
            }
        }

        if (kept.Count == 0 && split.Count > 0)
        {
            throw new DataFormatException($"{split.Origin(0).Split(':')[0]}: every image failed to decode (e.g. {lease.Failures[offset]})");
        }

        if (kept.Count < split.Count)
        {
            var failed = lease.Failures.Where(f => f.Key >= offset && f.Key < offset + split.Count).OrderBy(f => f.Key).Select(f => f.Value);
            split = split.Subset(kept, failed);
        }

        return new AuSplitImages(split, s.ImageSize, rows, s.Workers, s.Prefetch, s.SkipBad);
    }
}

/// <summary>An open fold (<see cref="AuFoldData.Open"/>); disposing it closes the fold for this user.</summary>
public sealed class FoldDataLease(AuFoldData data, Action close) : IDisposable
{
    private int _closed;

    public AuFoldData Data { get; } = data;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            close();
        }
    }
}
