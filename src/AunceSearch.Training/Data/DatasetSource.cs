using System.Diagnostics.CodeAnalysis;
using AunceSearch.Model;

namespace AunceSearch.Training.Data;

/// <summary>How the subjects are divided into folds.</summary>
public enum FoldSplitKind
{
    /// <summary>Per-fold list files (the AUNCE layout's own lists, or <see cref="FoldSplit.ListPattern"/>).</summary>
    Lists = 0,

    /// <summary>Subject parts: fold f (1-based) of k tests on part k + 1 − f and trains on the others (the AUNCE README's order).</summary>
    Parts = 1,

    /// <summary>Subjects sorted by name and dealt round-robin into k parts, then as <see cref="Parts"/>.</summary>
    Subjects = 2,
}

/// <summary>A subject-exclusive fold split.</summary>
public sealed record FoldSplit
{
    public FoldSplitKind Kind { get; init; } = FoldSplitKind.Lists;

    /// <summary>Subject ids per part (Kind = Parts).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Parts { get; init; } = [];

    /// <summary>Number of folds (Kind = Subjects).</summary>
    public int Folds { get; init; } = 3;

    /// <summary>
    /// Kind = Lists with the table layout: a path relative to the root with <c>{split}</c> (train/test) and <c>{fold}</c>
    /// placeholders; each line names an image of the label table or a subject (all of its images).
    /// </summary>
    public string? ListPattern { get; init; }

    /// <summary>The published 3-fold parts of BP4D (aunce-reference §4.3).</summary>
    public static readonly IReadOnlyList<IReadOnlyList<string>> Bp4dParts =
    [
        ["F001", "M007", "F018", "F008", "F002", "M004", "F010", "F009", "M012", "M001", "F016", "M014", "F023", "M008"],
        ["M011", "F003", "M010", "M002", "F005", "F022", "M018", "M017", "F013", "M016", "F020", "F011", "M013", "M005"],
        ["F007", "F015", "F006", "F019", "M006", "M009", "F012", "M003", "F004", "F021", "F017", "M015", "F014"],
    ];

    /// <summary>The published 3-fold parts of DISFA (aunce-reference §4.3).</summary>
    public static readonly IReadOnlyList<IReadOnlyList<string>> DisfaParts =
    [
        ["SN002", "SN010", "SN001", "SN026", "SN027", "SN032", "SN030", "SN009", "SN016"],
        ["SN013", "SN018", "SN011", "SN028", "SN012", "SN006", "SN031", "SN021", "SN024"],
        ["SN003", "SN029", "SN023", "SN025", "SN008", "SN005", "SN007", "SN017", "SN004"],
    ];

    /// <summary>The published parts by dataset name ("bp4d", "disfa"), or null.</summary>
    public static IReadOnlyList<IReadOnlyList<string>>? Published(string name) => name.ToLowerInvariant() switch
    {
        "bp4d" => Bp4dParts,
        "disfa" => DisfaParts,
        _ => null,
    };

    /// <summary>How many folds this split defines (null: as many as the list files).</summary>
    public int? FoldCount => Kind switch
    {
        FoldSplitKind.Parts => Parts.Count,
        FoldSplitKind.Subjects => Folds,
        _ => null,
    };

    /// <summary>The 0-based part fold <paramref name="fold"/> tests on.</summary>
    public static int TestPart(int fold, int parts) => parts - fold;

    public string Key => $"{Kind}|{Folds}|{ListPattern}|{string.Join(";", Parts.Select(p => string.Join(",", p)))}";
}

/// <summary>Where a fold's data comes from and how it is read: the sweep's <see cref="DatasetOptions"/> as they are, and the fold.</summary>
public sealed record DatasetSource : DatasetOptions
{
    public DatasetSource()
    {
    }

    /// <summary>Fold <paramref name="fold"/> of <paramref name="dataset"/>.</summary>
    [SetsRequiredMembers]
    public DatasetSource(DatasetOptions dataset, int fold)
        : base(dataset)
    {
        Fold = fold;
    }

    public required int Fold { get; init; }

    /// <summary>The subject split the options name (the published BP4D/DISFA parts resolved).</summary>
    public FoldSplit FoldSplit => Split switch
    {
        DatasetSplit.Bp4d => new FoldSplit { Kind = FoldSplitKind.Parts, Parts = FoldSplit.Bp4dParts },
        DatasetSplit.Disfa => new FoldSplit { Kind = FoldSplitKind.Parts, Parts = FoldSplit.DisfaParts },
        DatasetSplit.Parts => new FoldSplit { Kind = FoldSplitKind.Parts, Parts = Parts ?? [] },
        DatasetSplit.Subjects => new FoldSplit { Kind = FoldSplitKind.Subjects, Folds = SplitFolds },
        _ => new FoldSplit { Kind = FoldSplitKind.Lists, ListPattern = FoldLists },
    };

    /// <summary>Identifies the decoded data (two sources with the same key share cached images).</summary>
    public string Key => string.Join("\u001f", Format, Path.GetFullPath(Root), ListName, Fold, ImageSize, AuNames is null ? "" : string.Join(",", AuNames),
        Labels, Images, FoldSplit.Key, SkipBad, Cache);
}
