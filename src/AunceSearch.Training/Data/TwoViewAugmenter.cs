using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AunceSearch.Training.Data;

/// <summary>Augmentation strengths (all vectorised over the batch).</summary>
public sealed record AugmentOptions
{
    /// <summary>Random crop: the crop side is a uniform fraction in [MinScale, 1] of the image side.</summary>
    public double MinScale { get; init; } = 0.8;

    public double FlipProbability { get; init; } = 0.5;

    /// <summary>Probability of brightness/contrast jitter (reference colour jitter p = 0.8, strength 0.4).</summary>
    public double JitterProbability { get; init; } = 0.8;

    public double JitterStrength { get; init; } = 0.4;

    public double GrayscaleProbability { get; init; } = 0.2;

    public double NoiseStd { get; init; } = 0.02;
}

/// <summary>
/// The two-view augmentation of AUNCE training (aunce-reference §4.2, simplified to what is cheap on a batch):
/// independent random crops (scale and offset) and horizontal flips through one affine grid sample per batch,
/// brightness/contrast jitter, random grayscale and pixel noise, then the reference normalisation. No per-sample loops.
/// </summary>
public sealed class TwoViewAugmenter(AugmentOptions options)
{
    public AugmentOptions Options { get; } = options;

    /// <summary>One augmented view of <paramref name="images"/> (B, 3, H, W) in [0, 1]; returns a normalised tensor.</summary>
    public Tensor View(Tensor images, Generator generator)
    {
        using var scope = NewDisposeScope();
        var b = images.shape[0];
        var dev = images.device;
        Tensor U(params long[] shape) => torch.rand(shape, generator: generator, device: dev);

        var scale = U(b).mul(1 - Options.MinScale).add(Options.MinScale);            // crop side fraction
        var tx = U(b).mul(2).sub(1).mul(scale.neg().add(1));                          // offset within the free margin
        var ty = U(b).mul(2).sub(1).mul(scale.neg().add(1));
        var flip = U(b).lt(Options.FlipProbability).to(images.dtype).mul(-2).add(1);   // −1 flips
        var zeros = torch.zeros(b, device: dev);
        var theta = torch.stack([
            torch.stack([scale.mul(flip), zeros, tx], 1),
            torch.stack([zeros, scale, ty], 1),
        ], 1);                                                                        // (B, 2, 3)
        var grid = F.affine_grid(theta, [b, 3, images.shape[2], images.shape[3]], align_corners: false);
        var x = F.grid_sample(images, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false);

        var jitter = U(b, 1, 1, 1).lt(Options.JitterProbability).to(x.dtype);
        var brightness = U(b, 1, 1, 1).mul(2).sub(1).mul(Options.JitterStrength).mul(jitter).add(1);
        var contrast = U(b, 1, 1, 1).mul(2).sub(1).mul(Options.JitterStrength).mul(jitter).add(1);
        var mean = x.mean([1, 2, 3], keepdim: true);
        x = x.mul(brightness).sub(mean).mul(contrast).add(mean);
        var gray = x.mean([1], keepdim: true).expand_as(x);
        x = torch.where(U(b, 1, 1, 1).lt(Options.GrayscaleProbability), gray, x);
        x = x.add(torch.randn(x.shape, generator: generator, device: dev).mul(Options.NoiseStd)).clamp(0, 1);
        return AuImages.Normalize(x).MoveToOuterDisposeScope();
    }
}
