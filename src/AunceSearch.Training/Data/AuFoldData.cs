using System.Collections.Concurrent;
using System.Threading.Channels;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Data;

/// <summary>A batch of one split: the rows it holds (skipped images left out), their uint8 images and 0/1 labels.</summary>
public sealed record LoadedBatch(long[] Indices, Tensor Images, Tensor Labels);

/// <summary>The images of one split: decoded once into memory, or streamed from disk batch by batch.</summary>
public sealed class AuSplitImages
{
    private readonly Tensor? _memory;
    private readonly ConcurrentDictionary<long, string> _failures = new();

    internal AuSplitImages(AuSplit split, int size, Tensor? memory, int workers, int prefetch, bool skipBad)
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
        if (_memory is { } all)
        {
            for (var start = 0; start < order.Length; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var idx = order[start..Math.Min(order.Length, start + batchSize)];
                using var index = torch.tensor(idx);
                yield return new LoadedBatch(idx, all.index_select(0, index), Labels.index_select(0, index));
            }

            yield break;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<(long[] Kept, byte[] Pixels)>(new BoundedChannelOptions(Prefetch) { SingleReader = true, SingleWriter = true });
        var producer = Task.Run(() => Produce(order, batchSize, channel.Writer, stop.Token), CancellationToken.None);
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
                yield return new LoadedBatch(kept, torch.tensor(pixels, [kept.Length, 3, Size, Size]), Labels.index_select(0, index));
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

    private static Tensor LabelTensor(float[,] labels)
    {
        var n = labels.GetLength(0);
        var c = labels.GetLength(1);
        var flat = new float[n * c];
        Buffer.BlockCopy(labels, 0, flat, 0, flat.Length * sizeof(float));
        return torch.tensor(flat, [n, c]).DetachFromDisposeScope();
    }

    private void Produce(long[] order, int batchSize, ChannelWriter<(long[], byte[])> writer, CancellationToken token)
    {
        try
        {
            for (var start = 0; start < order.Length; start += batchSize)
            {
                token.ThrowIfCancellationRequested();
                var (pixels, kept) = AuImages.DecodeMany(Split, order[start..Math.Min(order.Length, start + batchSize)], Size, Workers, SkipBad, _failures);
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
/// One fold's train and test splits with their images. Instances are cached per <see cref="DatasetSource.Key"/> and shared
/// by every trial in the process: list files are read and (in memory mode) images decoded once.
/// </summary>
public sealed class AuFoldData
{
    private static readonly ConcurrentDictionary<string, Lazy<AuFoldData>> Cache = new();

    private AuFoldData(DatasetSource source, AuSplitImages train, AuSplitImages test)
    {
        Source = source;
        TrainImages = train;
        TestImages = test;
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

    /// <summary>Memory the in-memory cache may use for one fold: a quarter of the machine's memory, at most 16 GiB.</summary>
    public static long MemoryBudgetBytes { get; set; } = Math.Min(16L << 30, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4);

    /// <summary>Loads (or returns the cached) fold data. Errors name the file and line.</summary>
    public static AuFoldData Load(DatasetSource source)
    {
        var lazy = Cache.GetOrAdd(source.Key, _ => new Lazy<AuFoldData>(() => LoadUncached(source), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Cache.TryRemove(source.Key, out _);
            throw;
        }
    }

    /// <summary>The fold's splits without images: (train, test), subject-exclusive.</summary>
    public static (AuSplit Train, AuSplit Test) ReadSplits(DatasetSource s)
    {
        var (train, test) = s.Format switch
        {
            "aunce-list" => (AuListReader.Read(s.Root, s.ListName, "train", s.Fold, s.AuNames, s.SkipBad),
                             AuListReader.Read(s.Root, s.ListName, "test", s.Fold, s.AuNames, s.SkipBad)),
            "table" => AuTableReader.ReadFold(s),
            _ => throw new DataFormatException($"dataset.format: unknown format '{s.Format}' (aunce-list or table)"),
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

    private static AuFoldData LoadUncached(DatasetSource s)
    {
        var (train, test) = ReadSplits(s);
        var bytes = (long)(train.Count + test.Count) * 3 * s.ImageSize * s.ImageSize;
        var memory = s.Cache switch
        {
            DataCache.Memory => true,
            DataCache.Stream => false,
            _ => bytes <= MemoryBudgetBytes,
        };
        return new AuFoldData(s, Images(train, s, memory), Images(test, s, memory));
    }

    private static AuSplitImages Images(AuSplit split, DatasetSource s, bool memory)
    {
        if (!memory)
        {
            return new AuSplitImages(split, s.ImageSize, null, s.Workers, s.Prefetch, s.SkipBad);
        }

        var failures = new ConcurrentDictionary<long, string>();
        var order = Enumerable.Range(0, split.Count).Select(i => (long)i).ToArray();
        var (pixels, kept) = AuImages.DecodeMany(split, order, s.ImageSize, s.Workers, s.SkipBad, failures);
        if (kept.Length == 0)
        {
            throw new DataFormatException($"{split.Origin(0).Split(':')[0]}: every image failed to decode (e.g. {failures.Values.First()})");
        }

        if (kept.Length < split.Count)
        {
            split = split.Subset([.. kept.Select(k => (int)k)], failures.OrderBy(f => f.Key).Select(f => f.Value));
        }

        var images = torch.tensor(pixels, [split.Count, 3, s.ImageSize, s.ImageSize]).DetachFromDisposeScope();
        return new AuSplitImages(split, s.ImageSize, images, s.Workers, s.Prefetch, s.SkipBad);
    }
}
