namespace AunceSearch.Contracts;

/// <summary>The training transform: the reference's image_train_enhance, a basic crop and flip, or none.</summary>
public enum AugmentMode
{
    Enhance = 0,
    Basic = 1,
    None = 2,
}

/// <summary>The training transform (aunce-reference §4.2).</summary>
[GenerateSerializer, Immutable, Alias("aunce.augment-ref")]
public sealed record AugmentRef(
    [property: Id(0)] AugmentMode Mode,
    [property: Id(1)] double Flip,
    [property: Id(2)] double Jitter,
    [property: Id(3)] double Brightness,
    [property: Id(4)] double Contrast,
    [property: Id(5)] double Saturation,
    [property: Id(6)] double Hue,
    [property: Id(7)] double Grayscale,
    [property: Id(8)] int BlurKernel,
    [property: Id(9)] double BlurSigmaMin,
    [property: Id(10)] double BlurSigmaMax);

/// <summary>Encoder settings.</summary>
[GenerateSerializer, Immutable, Alias("aunce.model-ref")]
public sealed record ModelRef(
    [property: Id(0)] string Encoder,
    [property: Id(1)] int Width,
    [property: Id(2)] int FeatureDim,
    [property: Id(3)] int Neighbors = 4,
    [property: Id(4)] int? EmbedDim = null,
    [property: Id(5)] int[]? Depths = null,
    [property: Id(6)] int[]? Heads = null,
    [property: Id(7)] int? Window = null,
    [property: Id(8)] double? DropPath = null,
    [property: Id(9)] string? Pretrained = null);
