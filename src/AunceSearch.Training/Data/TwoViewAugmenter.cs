using AunceSearch.Model;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AunceSearch.Training.Data;

/// <summary>Two independently augmented views per image, vectorised over the batch (no per-sample loops).</summary>
public sealed class TwoViewAugmenter
{
    public TwoViewAugmenter(AugmentOptions options, int crop)
    {
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException($"augment: {problem}");
        }

        Options = options;
        Crop = crop;
    }

    public AugmentOptions Options { get; }

    public int Crop { get; }

    /// <summary>
    /// One augmented, normalised view of <paramref name="images"/>: uint8 or [0, 1] float (B, 3, H, W) on any device.
    /// Random draws come from <paramref name="generator"/> (a CPU generator), so a seed gives the same views on CPU and GPU.
    /// </summary>
    public Tensor View(Tensor images, Generator generator)
    {
        using var scope = NewDisposeScope();
        var b = images.shape[0];
        var dev = images.device;
        Tensor C(params long[] shape) => torch.rand(shape, generator: generator);
        Tensor U(params long[] shape) => C(shape).to(dev);
        if (Options.Mode == AugmentMode.None)
        {
            return CenterCrop(images).MoveToOuterDisposeScope();
        }

        // Crop + flip as one gather: offsets uniform over 0..H−crop inclusive (Python's randint), mirrored columns when flipped.
        long h = images.shape[2], w = images.shape[3];
        var oy = U(b).mul(h - Crop + 1).floor_().clamp_max_(h - Crop).to(ScalarType.Int64);
        var ox = U(b).mul(w - Crop + 1).floor_().clamp_max_(w - Crop).to(ScalarType.Int64);
        var flip = U(b).lt(Options.Flip);
        var ramp = torch.arange(Crop, device: dev);
        var rows = oy.unsqueeze(1).add(ramp);                                                        // (B, crop)
        var cols = torch.where(flip.unsqueeze(1), ox.unsqueeze(1).add(Crop - 1).sub(ramp), ox.unsqueeze(1).add(ramp));
        var x = images.gather(2, rows.view(b, 1, Crop, 1).expand(b, 3, Crop, w))
                      .gather(3, cols.view(b, 1, 1, Crop).expand(b, 3, Crop, Crop));
        x = x.dtype == ScalarType.Byte ? AuImages.ToUnit(x) : x.to(ScalarType.Float32);
        if (Options.Mode == AugmentMode.Enhance)
        {
            x = ColorJitter(x, C);
            var gray = Grayscale(x).expand_as(x);
            x = torch.where(U(b, 1, 1, 1).lt(Options.Grayscale), gray, x);
            if (Options.BlurKernel > 0)
            {
                var sigma = U(b).mul(Options.BlurSigmaMax - Options.BlurSigmaMin).add(Options.BlurSigmaMin);
                x = GaussianBlur(x, Options.BlurKernel, sigma);
            }
        }

        return AuImages.Normalize(x).MoveToOuterDisposeScope();
    }

    /// <summary>The evaluation transform: centre crop (torchvision's rounding) + normalisation.</summary>
    public Tensor CenterCrop(Tensor images)
    {
        using var scope = NewDisposeScope();
        long h = images.shape[2], w = images.shape[3];
        var top = (long)Math.Round((h - Crop) / 2.0, MidpointRounding.ToEven);
        var left = (long)Math.Round((w - Crop) / 2.0, MidpointRounding.ToEven);
        var x = images.narrow(2, top, Crop).narrow(3, left, Crop);
        x = x.dtype == ScalarType.Byte ? AuImages.ToUnit(x) : x.to(ScalarType.Float32);
        return AuImages.Normalize(x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// RandomApply(ColorJitter, p): factors uniform in [max(0, 1−s), 1+s] (hue in [−h, h]) and the four adjustments in a
    /// random order per image. The order is drawn on the CPU, so each stage applies each adjustment to exactly the images
    /// that take it there (index_select / index_copy, no device sync): the cost is one pass of each adjustment per image.
    /// </summary>
    private Tensor ColorJitter(Tensor x, Func<long[], Tensor> cpu)
    {
        var b = x.shape[0];
        var dev = x.device;
        Tensor Factor(double s)
        {
            var lo = Math.Max(0, 1 - s);
            return cpu([b]).mul(1 + s - lo).add(lo).view(b, 1, 1, 1);
        }

        var factors = new[] { Factor(Options.Brightness), Factor(Options.Contrast), Factor(Options.Saturation), cpu([b]).mul(2 * Options.Hue).sub(Options.Hue).view(b, 1, 1, 1) };
        var order = cpu([b, 4]).argsort(1);                      // a uniform random permutation per image
        var apply = cpu([b]).lt(Options.Jitter);
        var y = x.clone();
        for (var stage = 0; stage < 4; stage++)
        {
            var op = order.select(1, stage);
            for (var k = 0; k < 4; k++)
            {
                var rows = op.eq(k).logical_and(apply).nonzero().view(-1);
                if (rows.shape[0] == 0)
                {
                    continue;
                }

                var idx = rows.to(dev);
                var sub = y.index_select(0, idx);
                var f = factors[k].index_select(0, rows).to(dev);
                sub = k switch
                {
                    0 => sub.mul_(f).clamp_(0, 1),
                    1 => Blend(sub, Grayscale(sub).mean([1, 2, 3], keepdim: true), f),
                    2 => Blend(sub, Grayscale(sub), f),
                    _ => AdjustHue(sub, f.view(-1, 1, 1)),
                };
                y.index_copy_(0, idx, sub);
            }
        }

        return y;
    }

    /// <summary>torchvision's _blend: (f·a + (1 − f)·b) clamped to [0, 1].</summary>
    private static Tensor Blend(Tensor a, Tensor b, Tensor factor) => b.expand_as(a).lerp(a, factor.expand_as(a)).clamp_(0, 1);

    /// <summary>ITU-R 601-2 luma (torchvision rgb_to_grayscale), (B, 1, H, W).</summary>
    public static Tensor Grayscale(Tensor x)
    {
        var c = x.unbind(1);
        return c[0].mul(0.2989).add(c[1].mul(0.587)).add(c[2].mul(0.114)).unsqueeze(1);
    }

    /// <summary>
    /// Shifts the hue by <paramref name="shift"/> (B, 1, 1) turns, via HSV, as torchvision's adjust_hue: RGB → (h, s, v),
    /// h + shift, back to RGB. The way back is the closed form of torchvision's sector table: each channel is
    /// v − v·s·clamp(min(k, 4 − k), 0, 1) with k = (n + 6h) mod 6 and n = 5, 3, 1 for R, G, B — the same values (v, p, q,
    /// t) up to rounding, in a few whole-image operations instead of one per sector and channel (3x faster on the CPU).
    /// </summary>
    public static Tensor AdjustHue(Tensor x, Tensor shift)
    {
        using var scope = NewDisposeScope();
        var maxc = x.amax([1], keepdim: true);                        // (B, 1, H, W)
        var cr = maxc.sub(x.amin([1], keepdim: true));
        var flat = cr.eq(0);
        var s = cr.div(maxc.masked_fill(flat, 1));
        var d = maxc.sub(x).div_(cr.masked_fill(flat, 1));           // (rc, gc, bc)
        Tensor rc = d.narrow(1, 0, 1), gc = d.narrow(1, 1, 1), bc = d.narrow(1, 2, 1);
        var isR = maxc.eq(x.narrow(1, 0, 1));
        var isG = maxc.eq(x.narrow(1, 1, 1));
        // torchvision sums the three masked candidates; exactly one is unmasked, so picking it is the same number.
        var hue = torch.where(isR, bc.sub(gc), torch.where(isG, rc.sub(bc).add_(2), gc.sub(rc).add_(4)));
        hue = hue.div_(6).add_(1).fmod_(1).add_(shift.unsqueeze(1)).remainder_(1);
        var k = hue.mul_(6).add(ChannelOffsets(x.device)).remainder_(6);   // (B, 3, H, W)
        var w = torch.minimum(k, k.neg().add_(4)).clamp_(0, 1);
        return maxc.sub(w.mul_(maxc.mul(s))).clamp_(0, 1).MoveToOuterDisposeScope();
    }

    private static Tensor ChannelOffsets(Device device) => torch.tensor(new float[] { 5, 3, 1 }, device: device).view(1, 3, 1, 1);

    /// <summary>Per-image Gaussian blur with σ (B), reflect padding, as one grouped convolution.</summary>
    public static Tensor GaussianBlur(Tensor x, int kernel, Tensor sigma)
    {
        long b = x.shape[0], ch = x.shape[1], h = x.shape[2], w = x.shape[3];
        var half = (kernel - 1) / 2.0;
        var pos = torch.linspace(-half, half, kernel, device: x.device);                       // (k)
        var k1 = pos.pow(2).unsqueeze(0).div(sigma.pow(2).mul(-2).unsqueeze(1)).exp();          // (B, k)
        k1 = k1.div(k1.sum(1, keepdim: true));
        var k2 = k1.unsqueeze(2).mul(k1.unsqueeze(1));                                          // (B, k, k)
        var weight = k2.unsqueeze(1).repeat_interleave(ch, 0);                                  // (B·3, 1, k, k)
        var pad = kernel / 2;
        var padded = F.pad(x.reshape(1, b * ch, h, w), [pad, pad, pad, pad], PaddingModes.Reflect);
        return F.conv2d(padded, weight, groups: b * ch).view(b, ch, h, w);
    }
}
