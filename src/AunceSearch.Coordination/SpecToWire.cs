using AunceSearch.Contracts;
using AunceSearch.Spec;

namespace AunceSearch.Coordination;

/// <summary>The one mapping spec → wire records: what travels in a trial assignment.</summary>
public static class SpecToWire
{
    public static DatasetRef ToRef(this DatasetSpec d) => new(
        d.Root, d.ListName, d.ImageSize, d.Aus is { } a ? [.. a] : null, d.Format, d.Labels, d.Images, d.Split,
        d.Parts.IsDefaultOrEmpty ? null : [.. d.Parts.Select(p => p.ToArray())], d.SplitFolds, d.FoldLists, d.CropSize, d.SkipBad,
        d.Cache, d.Workers, d.Prefetch);

    public static ModelRef ToRef(this ModelSpec m) => new(
        m.Encoder, m.Width, m.FeatureDim, m.Neighbors, m.EmbedDim, m.Depths is { } d ? [.. d] : null, m.Heads is { } h ? [.. h] : null,
        m.Window, m.DropPath, m.Pretrained);

    public static AugmentRef ToRef(this AugmentSpec a) => new(
        a.Mode, a.Flip, a.Jitter, a.Brightness, a.Contrast, a.Saturation, a.Hue, a.Grayscale, a.BlurKernel, a.BlurSigmaMin, a.BlurSigmaMax);
}
