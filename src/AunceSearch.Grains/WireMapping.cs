using AunceSearch.Contracts;
using AunceSearch.Training.Data;
using AunceSearch.Training.Models;

namespace AunceSearch.Grains;

/// <summary>
/// The one mapping wire records (what travels in a trial assignment; made from the spec by
/// <see cref="Coordination.SpecToWire"/>) → trainer options. The CLI's <c>aunce train</c> goes through the same two steps,
/// so a configuration trains identically inside and outside a sweep.
/// </summary>
public static class WireMapping
{
    public static DatasetSource ToSource(this DatasetRef d, int fold) => new()
    {
        Format = d.Format,
        Root = d.Root,
        ListName = d.ListName,
        Fold = fold,
        ImageSize = d.ImageSize,
        CropSize = d.CropSize,
        AuNames = d.AuNames,
        LabelsFile = d.Labels,
        ImagesDirectory = d.Images,
        Split = d.Split switch
        {
            "bp4d" or "disfa" => new FoldSplit { Kind = FoldSplitKind.Parts, Parts = FoldSplit.Published(d.Split)! },
            "parts" => new FoldSplit { Kind = FoldSplitKind.Parts, Parts = d.Parts ?? [] },
            "subjects" => new FoldSplit { Kind = FoldSplitKind.Subjects, Folds = d.SplitFolds },
            _ => new FoldSplit { Kind = FoldSplitKind.Lists, ListPattern = d.FoldLists },
        },
        SkipBad = d.SkipBad,
        Cache = d.Cache switch
        {
            "memory" => DataCache.Memory,
            "stream" => DataCache.Stream,
            _ => DataCache.Auto,
        },
        Workers = d.Workers,
        Prefetch = d.Prefetch,
    };

    public static ModelOptions ToOptions(this ModelRef m) => new()
    {
        Encoder = m.Encoder,
        Width = m.Width,
        FeatureDim = m.FeatureDim,
        Neighbors = m.Neighbors,
        EmbedDim = m.EmbedDim,
        Depths = m.Depths,
        Heads = m.Heads,
        Window = m.Window,
        DropPath = m.DropPath,
        Pretrained = m.Pretrained,
    };

    public static AugmentOptions ToOptions(this AugmentRef? a) => a is null ? new AugmentOptions() : new()
    {
        Mode = a.Mode,
        FlipProbability = a.Flip,
        JitterProbability = a.Jitter,
        Brightness = a.Brightness,
        Contrast = a.Contrast,
        Saturation = a.Saturation,
        Hue = a.Hue,
        GrayscaleProbability = a.Grayscale,
        BlurKernel = a.BlurKernel,
        BlurSigmaMin = a.BlurSigmaMin,
        BlurSigmaMax = a.BlurSigmaMax,
    };
}
