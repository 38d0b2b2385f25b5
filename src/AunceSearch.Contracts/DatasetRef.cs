namespace AunceSearch.Contracts;

/// <summary>The dataset layout: the AUNCE list files (BP4D/DISFA) or one label table with a header.</summary>
public enum DatasetFormat
{
    AunceList = 0,
    Table = 1,
}

/// <summary>How the dataset's subjects are split into folds.</summary>
public enum DatasetSplit
{
    /// <summary>The layout's own per-fold list files.</summary>
    Lists = 0,

    /// <summary>The published BP4D parts.</summary>
    Bp4d = 1,

    /// <summary>The published DISFA parts.</summary>
    Disfa = 2,

    /// <summary>Subject ids per part, given in <see cref="DatasetRef.Parts"/>.</summary>
    Parts = 3,

    /// <summary>Round-robin subjects into <see cref="DatasetRef.SplitFolds"/> parts.</summary>
    Subjects = 4,
}

/// <summary>Decoded images in memory, streamed from disk, or chosen by size.</summary>
public enum DataCacheMode
{
    Auto = 0,
    Memory = 1,
    Stream = 2,
}

/// <summary>The dataset a fold trains on. Paths are absolute and read by the trainer silos.</summary>
[GenerateSerializer, Immutable, Alias("aunce.dataset-ref")]
public sealed record DatasetRef(
    [property: Id(0)] string Root,
    [property: Id(1)] string ListName,
    [property: Id(2)] int ImageSize,
    [property: Id(3)] string[]? AuNames,
    [property: Id(4)] DatasetFormat Format = DatasetFormat.AunceList,
    [property: Id(5)] string Labels = "labels.csv",
    [property: Id(6)] string Images = "",
    [property: Id(7)] DatasetSplit Split = DatasetSplit.Lists,
    [property: Id(8)] string[][]? Parts = null,
    [property: Id(9)] int SplitFolds = 3,
    [property: Id(10)] string? FoldLists = null,
    [property: Id(11)] int CropSize = 0,
    [property: Id(12)] bool SkipBad = false,
    [property: Id(13)] DataCacheMode Cache = DataCacheMode.Auto,
    [property: Id(14)] int Workers = 0,
    [property: Id(15)] int Prefetch = 4);
