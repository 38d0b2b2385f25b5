using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Data;

/// <summary>Where a fold's data comes from.</summary>
public sealed record DatasetSource(string Root, string ListName, int Fold, int ImageSize, IReadOnlyList<string>? AuNames = null);

/// <summary>
/// One fold's train and test images (decoded, resized, in [0,1], on the CPU) and labels. Instances are cached
/// per (root, list, fold, size) and shared by every trial in the process: decoding happens once.
/// </summary>
public sealed class AuFoldData
{
    private static readonly ConcurrentDictionary<DatasetSource, Lazy<AuFoldData>> Cache = new();

    private AuFoldData(DatasetSource source, AuSplit train, AuSplit test, Tensor trainImages, Tensor testImages)
    {
        Source = source;
        Train = train;
        Test = test;
        TrainImages = trainImages;
        TestImages = testImages;
        TrainLabels = ToTensor(train.Labels);
        TestLabels = ToTensor(test.Labels);
    }

    public DatasetSource Source { get; }

    public AuSplit Train { get; }

    public AuSplit Test { get; }

    public Tensor TrainImages { get; }

    public Tensor TestImages { get; }

    public Tensor TrainLabels { get; }

    public Tensor TestLabels { get; }

    public IReadOnlyList<string> AuNames => Train.AuNames;

    /// <summary>Loads (or returns the cached) fold data. Errors name the file and line.</summary>
    public static AuFoldData Load(DatasetSource source)
    {
        var lazy = Cache.GetOrAdd(source, s => new Lazy<AuFoldData>(() => LoadUncached(s), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Cache.TryRemove(source, out _);
            throw;
        }
    }

    private static AuFoldData LoadUncached(DatasetSource s)
    {
        var train = AuListReader.Read(s.Root, s.ListName, "train", s.Fold, s.AuNames);
        var test = AuListReader.Read(s.Root, s.ListName, "test", s.Fold, s.AuNames);
        var overlap = train.Subjects.Intersect(test.Subjects).ToList();
        if (overlap.Count > 0)
        {
            throw new DataFormatException(
                $"{s.Root}: fold {s.Fold} is not subject-exclusive: {overlap.Count} subject(s) in both train and test (e.g. {overlap[0]})");
        }

        var trainImages = AuImages.Load(train.ImagePaths, s.ImageSize, $"{s.ListName}_train_img_path_fold{s.Fold}.txt").DetachFromDisposeScope();
        var testImages = AuImages.Load(test.ImagePaths, s.ImageSize, $"{s.ListName}_test_img_path_fold{s.Fold}.txt").DetachFromDisposeScope();
        return new AuFoldData(s, train, test, trainImages, testImages);
    }

    private static Tensor ToTensor(float[,] labels)
    {
        var n = labels.GetLength(0);
        var c = labels.GetLength(1);
        var flat = new float[n * c];
        Buffer.BlockCopy(labels, 0, flat, 0, flat.Length * sizeof(float));
        return torch.tensor(flat, [n, c]).DetachFromDisposeScope();
    }
}
