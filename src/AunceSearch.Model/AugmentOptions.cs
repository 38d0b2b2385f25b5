namespace AunceSearch.Model;

/// <summary>The training transform: the reference's <c>image_train_enhance</c>, a basic crop and flip, or a centre crop.</summary>
public enum AugmentMode
{
    Enhance = 0,
    Basic = 1,
    None = 2,
}

/// <summary>
/// The training transform (aunce-reference §4.2), as the spec's <c>training.augment</c> names it, the wire carries it and the
/// trainer applies it. <see cref="AugmentMode.Enhance"/> = the reference's <c>image_train_enhance</c>: random crop → horizontal
/// flip (p) → RandomApply(ColorJitter(brightness, contrast, saturation, hue), p) with the four adjustments in a random order
/// per image → RandomGrayscale(p) → Gaussian blur (σ ~ U(σmin, σmax), always) → CIFAR normalisation;
/// <see cref="AugmentMode.Basic"/> = <c>image_train</c>: crop + flip + normalisation; <see cref="AugmentMode.None"/>: centre
/// crop + normalisation. Defaults are the reference's.
/// </summary>
public sealed record AugmentOptions
{
    public AugmentMode Mode { get; init; } = AugmentMode.Enhance;

    /// <summary>Probability of a horizontal flip.</summary>
    public double Flip { get; init; } = 0.5;

    /// <summary>Probability that the colour jitter applies.</summary>
    public double Jitter { get; init; } = 0.8;

    public double Brightness { get; init; } = 0.4;

    public double Contrast { get; init; } = 0.4;

    public double Saturation { get; init; } = 0.4;

    public double Hue { get; init; } = 0.1;

    /// <summary>Probability of a grey image.</summary>
    public double Grayscale { get; init; } = 0.2;

    /// <summary>Gaussian blur kernel size (odd; 0 = no blur).</summary>
    public int BlurKernel { get; init; } = 3;

    public double BlurSigmaMin { get; init; } = 0.1;

    public double BlurSigmaMax { get; init; } = 2.0;

    /// <summary>Names the first invalid option (by its spec key), or null.</summary>
    public string? Validate()
    {
        static bool P(double p) => p is >= 0 and <= 1;
        return this switch
        {
            _ when !Enum.IsDefined(Mode) => $"mode {(int)Mode} is not one of enhance, basic, none",
            _ when !P(Flip) => $"flip {Flip} must be a probability in [0, 1]",
            _ when !P(Jitter) => $"jitter {Jitter} must be a probability in [0, 1]",
            _ when !P(Grayscale) => $"grayscale {Grayscale} must be a probability in [0, 1]",
            _ when Brightness is < 0 or > 1 => $"brightness {Brightness} must be in [0, 1]",
            _ when Contrast is < 0 or > 1 => $"contrast {Contrast} must be in [0, 1]",
            _ when Saturation is < 0 or > 1 => $"saturation {Saturation} must be in [0, 1]",
            _ when Hue is < 0 or > 0.5 => $"hue {Hue} must be in [0, 0.5]",
            _ when BlurKernel < 0 || (BlurKernel > 0 && BlurKernel % 2 == 0) => $"blur_kernel {BlurKernel} must be 0 or an odd size",
            _ when BlurSigmaMin <= 0 || BlurSigmaMax < BlurSigmaMin => $"blur_sigma [{BlurSigmaMin}, {BlurSigmaMax}] must satisfy 0 < min <= max",
            _ => null,
        };
    }
}
