namespace AunceSearch.Model;

/// <summary>The dataset layout: the AUNCE list files (BP4D/DISFA) or one label table with a header (GFT, Aff-Wild2, ...).</summary>
public enum DatasetFormat
{
    AunceList = 0,
    Table = 1,
}

/// <summary>How the dataset's subjects are split into folds.</summary>
public enum DatasetSplit
{
    /// <summary>The layout's own per-fold list files (a table's: <see cref="DatasetOptions.FoldLists"/>).</summary>
    Lists = 0,

    /// <summary>The published BP4D parts.</summary>
    Bp4d = 1,

    /// <summary>The published DISFA parts.</summary>
    Disfa = 2,

    /// <summary>Subject ids per part, given in <see cref="DatasetOptions.Parts"/>.</summary>
    Parts = 3,

    /// <summary>Subjects sorted by name and dealt round-robin into <see cref="DatasetOptions.SplitFolds"/> parts.</summary>
    Subjects = 4,
}

/// <summary>How a dataset's images are kept while a fold trains.</summary>
public enum DataCacheMode
{
    /// <summary>In memory when the decoded split fits the memory budget, else streamed.</summary>
    Auto = 0,

    /// <summary>Decode every image once into one uint8 tensor shared by all trials of the process.</summary>
    Memory = 1,

    /// <summary>Decode each batch from disk in parallel, a few batches ahead of the trainer.</summary>
    Stream = 2,
}

/// <summary>
/// Where the images and labels are and how they are read, as the spec's <c>dataset:</c> names them, the wire carries them
/// and the trainer reads them (with a fold number: the trainer's <c>DatasetSource</c>). Paths are absolute and read by the
/// trainer silos.
/// </summary>
public record DatasetOptions
{
    /// <summary>The dataset root.</summary>
    public required string Root { get; init; }

    /// <summary>aunce-list: the list-file prefix (<c>BP4D</c> in <c>list/BP4D_train_img_path_fold1.txt</c>).</summary>
    public string ListName { get; init; } = "SYN";

    /// <summary>Images are decoded to this square size (the reference stores 256×256 crops).</summary>
    public int ImageSize { get; init; } = 48;

    /// <summary>AU names (label columns); null = from the dataset (au_names.txt or the table header).</summary>
    public string[]? AuNames { get; init; }

    public DatasetFormat Format { get; init; } = DatasetFormat.AunceList;

    /// <summary>table: the label table, relative to the root.</summary>
    public string Labels { get; init; } = "labels.csv";

    /// <summary>table: the folder the image paths are relative to, relative to the root ("" = the root).</summary>
    public string Images { get; init; } = "";

    public DatasetSplit Split { get; init; } = DatasetSplit.Lists;

    /// <summary>split: parts — subject ids per part.</summary>
    public string[][]? Parts { get; init; }

    /// <summary>split: subjects — how many parts.</summary>
    public int SplitFolds { get; init; } = 3;

    /// <summary>split: lists of a table — per-fold list files with <c>{split}</c> and <c>{fold}</c>, relative to the root.</summary>
    public string? FoldLists { get; init; }

    /// <summary>The network input: random crops for training, centre crops for evaluation; 0 = ImageSize·7/8 (224 of 256).</summary>
    public int CropSize { get; init; }

    /// <summary>Skip (and count) missing or corrupt images and malformed label rows instead of failing.</summary>
    public bool SkipBad { get; init; }

    public DataCacheMode Cache { get; init; } = DataCacheMode.Auto;

    /// <summary>Decoder threads (0 = one per core).</summary>
    public int Workers { get; init; }

    /// <summary>Batches decoded ahead of the trainer when streaming.</summary>
    public int Prefetch { get; init; } = 4;

    /// <summary>When set and the dataset is missing, the client generates it (synthetic AU faces) before the sweep starts.</summary>
    public SyntheticOptions? Synthetic { get; init; }

    /// <summary>The effective crop size.</summary>
    public int EffectiveCrop => CropSize > 0 ? CropSize : Math.Max(8, (int)Math.Round(ImageSize * 7.0 / 8.0));
}

/// <summary>Parameters of the synthetic AU-face generator (<c>dataset.synthetic</c>; <c>aunce synth</c>).</summary>
public sealed record SyntheticOptions
{
    /// <summary>BP4D's per-AU occurrence rates, the generator's default.</summary>
    public static readonly IReadOnlyList<double> Bp4dOccurrence = [0.211, 0.171, 0.203, 0.462, 0.549, 0.594, 0.562, 0.466, 0.169, 0.344, 0.165, 0.152];

    public int Subjects { get; init; } = 12;

    public int ImagesPerSubject { get; init; } = 40;

    public int ImageSize { get; init; } = 64;

    /// <summary>Probability that a written label is flipped (the image keeps the true AU state).</summary>
    public double LabelNoise { get; init; } = 0.05;

    /// <summary>Per-AU occurrence rates (BP4D's by default); at most 12 AUs.</summary>
    public IReadOnlyList<double> OccurrenceRates { get; init; } = Bp4dOccurrence;

    public int Folds { get; init; } = 3;

    public int Seed { get; init; } = 1;

    /// <summary>The list-file prefix (a spec's <c>dataset.list_name</c>).</summary>
    public string ListName { get; init; } = "SYN";
}
