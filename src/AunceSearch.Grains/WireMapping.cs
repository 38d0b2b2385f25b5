using AunceSearch.Contracts;
using AunceSearch.Training.Data;
using AunceSearch.Training.Models;

namespace AunceSearch.Grains;

/// <summary>
/// The one mapping wire records (what travels in a trial assignment; made from the spec by
/// <c>AunceSearch.Spec.SpecToDefinition</c>) → trainer options. The CLI's <c>aunce train</c> goes through the same two steps,
/// so a configuration trains identically inside and outside a sweep.
/// </summary>
public static class WireMapping
{
    public static DatasetSource ToSource(this DatasetRef d, int fold) => new()
    {
        Format = d.Format == DatasetFormat.Table ? "table" : "aunce-list",
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
            DatasetSplit.Bp4d => new FoldSplit { Kind = FoldSplitKind.Parts, Parts = FoldSplit.Published("bp4d")! },
            DatasetSplit.Disfa => new FoldSplit { Kind = FoldSplitKind.Parts, Parts = FoldSplit.Published("disfa")! },
            DatasetSplit.Parts => new FoldSplit { Kind = FoldSplitKind.Parts, Parts = d.Parts ?? [] },
            DatasetSplit.Subjects => new FoldSplit { Kind = FoldSplitKind.Subjects, Folds = d.SplitFolds },
            _ => new FoldSplit { Kind = FoldSplitKind.Lists, ListPattern = d.FoldLists },
        },
        SkipBad = d.SkipBad,
        Cache = d.Cache switch
        {
            DataCacheMode.Memory => DataCache.Memory,
            DataCacheMode.Stream => DataCache.Stream,
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

    /// <summary>The trainer's device name.</summary>
    public static string ToOptions(this TrainingDevice d) => d switch
    {
        TrainingDevice.Cpu => "cpu",
        TrainingDevice.Cuda => "cuda",
        _ => "auto",
    };

    public static AugmentOptions ToOptions(this AugmentRef? a) => a is null ? new AugmentOptions() : new()
    {
        Mode = a.Mode switch
        {
            AugmentMode.Basic => "basic",
            AugmentMode.None => "none",
            _ => "enhance",
        },
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
