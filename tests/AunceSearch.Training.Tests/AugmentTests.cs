using AunceSearch.Model;
using AunceSearch.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Tests;

/// <summary>The reference's two-view transform (aunce-reference §4.2), op by op.</summary>
public class AugmentTests
{
    private static Tensor Unnormalize(Tensor x) =>
        x.mul(torch.tensor(AuImages.Std).view(1, 3, 1, 1)).add(torch.tensor(AuImages.Mean).view(1, 3, 1, 1));

    /// <summary>An image whose pixel (c, y, x) encodes its position: value = (y·W + x) mod 256, distinct per channel.</summary>
    private static Tensor Positional(int b, int size)
    {
        var v = torch.arange(size * size, dtype: ScalarType.Int64).view(1, 1, size, size).expand(b, 3, size, size).contiguous();
        return v.add(torch.arange(3, dtype: ScalarType.Int64).view(1, 3, 1, 1).mul(7)).remainder(256).to(ScalarType.Byte);
    }

    [Fact]
    public void Crop_offsets_cover_every_position_inclusive_and_flip_mirrors_columns()
    {
        using var scope = NewDisposeScope();
        const int size = 12, crop = 10;
        var images = Positional(400, size);
        var basic = new TwoViewAugmenter(new AugmentOptions { Mode = AugmentMode.Basic, Flip = 0.5 }, crop);
        using var g = new Generator(5);
        var view = Unnormalize(basic.View(images, g)).mul(255).round().to(ScalarType.Int64);   // (B, 3, 10, 10)
        var topLeft = view[.., 0, 0, 0].data<long>().ToArray();
        var topRight = view[.., 0, 0, crop - 1].data<long>().ToArray();
        var offsets = new HashSet<(long, long)>();
        var flips = 0;
        for (var i = 0; i < 400; i++)
        {
            var flipped = topLeft[i] > topRight[i];
            flips += flipped ? 1 : 0;
            var left = flipped ? topRight[i] : topLeft[i];
            offsets.Add((left / size, left % size));
            Assert.Equal(crop - 1, Math.Abs(topRight[i] - topLeft[i]));
        }

        Assert.Equal(9, offsets.Count);                 // oy, ox ∈ {0, 1, 2}: randint(0, 12 − 10) is inclusive
        Assert.InRange(flips, 150, 250);
    }

    [Fact]
    public void None_mode_is_the_centre_crop_and_matches_CenterCrop()
    {
        using var scope = NewDisposeScope();
        var images = Positional(2, 8);
        var none = new TwoViewAugmenter(new AugmentOptions { Mode = AugmentMode.None }, 6);
        using var g = new Generator(1);
        var v = none.View(images, g);
        Assert.True(v.allclose(none.CenterCrop(images)));
        var raw = Unnormalize(v).mul(255).round().to(ScalarType.Int64);
        Assert.Equal(9, raw[0, 0, 0, 0].item<long>());    // pixel (1, 1) of an 8×8 image: offset round((8 − 6) / 2) = 1
    }

    [Fact]
    public void Hue_shift_matches_torchvision_on_known_colours()
    {
        using var scope = NewDisposeScope();
        var red = torch.tensor(new float[] { 1, 0, 0, 0.2f, 0.4f, 0.8f }).view(2, 3, 1, 1);
        var third = torch.tensor(new float[] { 1f / 3, 1f / 3 }).view(2, 1, 1);
        var shifted = TwoViewAugmenter.AdjustHue(red, third);
        Assert.True(shifted[0].view(3).allclose(torch.tensor(new float[] { 0, 1, 0 }), atol: 1e-5));
        // (0.2, 0.4, 0.8): h = 0.6111, s = 0.75, v = 0.8 → h + 1/3 = 0.9444 → (0.8, 0.2, 0.4)
        Assert.True(shifted[1].view(3).allclose(torch.tensor(new float[] { 0.8f, 0.2f, 0.4f }), atol: 1e-5));
        var zero = TwoViewAugmenter.AdjustHue(red, torch.zeros(2, 1, 1));
        Assert.True(zero.allclose(red, atol: 1e-6));
    }

    [Fact]
    public void Hue_shift_matches_torchvisions_sector_formula_on_random_images()
    {
        // torchvision's _rgb2hsv / _hsv2rgb written out step by step (masked sums, sector table) as the oracle.
        using var scope = NewDisposeScope();
        var gen = new torch.Generator(5);
        var x = torch.rand([6, 3, 9, 11], generator: gen);
        x[0] = torch.tensor(0.5f);                        // grey: no saturation, the hue is 0
        x[1, 0] = x[1, 1];                                // ties between channels
        var shift = torch.rand([6], generator: gen).sub(0.5).mul(0.2).view(6, 1, 1);
        Assert.True(TwoViewAugmenter.AdjustHue(x, shift).sub(TorchvisionAdjustHue(x, shift)).abs().max().item<float>() < 1e-5);
    }

    private static Tensor TorchvisionAdjustHue(Tensor img, Tensor hueFactor)
    {
        var c = img.unbind(1);
        Tensor r = c[0], g = c[1], b = c[2];
        var maxc = img.amax([1]);
        var minc = img.amin([1]);
        var eqc = maxc.eq(minc);
        var cr = maxc.sub(minc);
        var ones = torch.ones_like(maxc);
        var s = cr.div(torch.where(eqc, ones, maxc));
        var crDivisor = torch.where(eqc, ones, cr);
        Tensor rc = maxc.sub(r).div(crDivisor), gc = maxc.sub(g).div(crDivisor), bc = maxc.sub(b).div(crDivisor);
        var hr = maxc.eq(r).to(ScalarType.Float32).mul(bc.sub(gc));
        var hg = maxc.eq(g).logical_and(maxc.ne(r)).to(ScalarType.Float32).mul(rc.sub(bc).add(2));
        var hb = maxc.ne(g).logical_and(maxc.ne(r)).to(ScalarType.Float32).mul(gc.sub(rc).add(4));
        var h = hr.add(hg).add(hb).div(6).add(1).fmod(1).add(hueFactor).remainder(1);
        var v = maxc;
        var i = h.mul(6).floor();
        var f = h.mul(6).sub(i);
        var sector = i.to(ScalarType.Int64).remainder(6);
        var p = v.mul(s.neg().add(1)).clamp(0, 1);
        var q = v.mul(s.mul(f).neg().add(1)).clamp(0, 1);
        var t = v.mul(s.mul(f.neg().add(1)).neg().add(1)).clamp(0, 1);
        Tensor Pick(params Tensor[] options)
        {
            var result = options[5];
            for (var k = 4; k >= 0; k--)
            {
                result = torch.where(sector.eq(k), options[k], result);
            }

            return result;
        }

        return torch.stack([Pick(v, q, p, p, t, v), Pick(t, v, v, q, p, p), Pick(p, p, t, v, v, q)], 1);
    }

    [Fact]
    public void Gaussian_blur_uses_the_normalised_three_tap_kernel_with_reflect_padding()
    {
        using var scope = NewDisposeScope();
        var x = torch.zeros(1, 3, 5, 5);
        x[0, .., 2, 2] = torch.tensor(1f);
        var sigma = 0.8;
        var blurred = TwoViewAugmenter.GaussianBlur(x, 3, torch.tensor(new[] { (float)sigma }));
        var w = Math.Exp(-0.5 / (sigma * sigma));
        var k = new[] { w / (1 + (2 * w)), 1 / (1 + (2 * w)), w / (1 + (2 * w)) };
        Assert.Equal(k[1] * k[1], blurred[0, 0, 2, 2].item<float>(), 5);
        Assert.Equal(k[0] * k[1], blurred[0, 1, 1, 2].item<float>(), 5);
        Assert.Equal(k[0] * k[0], blurred[0, 2, 3, 3].item<float>(), 5);
        var flat = torch.full(1, 3, 4, 4, 0.3f);
        Assert.True(TwoViewAugmenter.GaussianBlur(flat, 3, torch.tensor(new[] { 1.7f })).allclose(flat, atol: 1e-6));   // reflect keeps borders
    }

    [Fact]
    public void Grayscale_uses_ITU_601_weights_and_jitter_off_leaves_colours()
    {
        using var scope = NewDisposeScope();
        var px = torch.tensor(new float[] { 0.5f, 0.25f, 1f }).view(1, 3, 1, 1);
        Assert.Equal((0.2989 * 0.5) + (0.587 * 0.25) + (0.114 * 1), TwoViewAugmenter.Grayscale(px).item<float>(), 5);

        var images = Positional(6, 8);
        var plain = new TwoViewAugmenter(new AugmentOptions { Mode = AugmentMode.Basic }, 8);
        var noColour = new TwoViewAugmenter(new AugmentOptions { Mode = AugmentMode.Enhance, Jitter = 0, Grayscale = 0, BlurKernel = 0 }, 8);
        using var g1 = new Generator(3);
        using var g2 = new Generator(3);
        Assert.True(plain.View(images, g1).allclose(noColour.View(images, g2), atol: 1e-6));

        var allGray = new TwoViewAugmenter(new AugmentOptions { Grayscale = 1, Jitter = 0, BlurKernel = 0 }, 8);
        using var g3 = new Generator(3);
        var v = Unnormalize(allGray.View(images, g3));
        Assert.True(v[.., 0].allclose(v[.., 1], atol: 1e-5) && v[.., 1].allclose(v[.., 2], atol: 1e-5));
    }

    [Fact]
    public void Enhance_views_are_seeded_independent_and_bounded()
    {
        using var scope = NewDisposeScope();
        var images = torch.rand(8, 3, 16, 16, generator: new Generator(2)).mul(255).to(ScalarType.Byte);
        var aug = new TwoViewAugmenter(new AugmentOptions(), 14);
        using var g1 = new Generator(11);
        using var g2 = new Generator(11);
        var a1 = aug.View(images, g1);
        var a2 = aug.View(images, g1);
        var b1 = aug.View(images, g2);
        Assert.Equal([8L, 3, 14, 14], a1.shape);
        Assert.True(a1.eq(b1).all().item<bool>());               // same seed, same view
        Assert.False(a1.allclose(a2));                        // the second view draws anew
        var raw = Unnormalize(a1);
        Assert.True(raw.min().item<float>() >= -1e-5 && raw.max().item<float>() <= 1 + 1e-5);
        Assert.False(raw.isnan().any().item<bool>());
    }

    [Fact]
    public void Invalid_options_name_the_option()
    {
        var e = Assert.Throws<ArgumentException>(() => new TwoViewAugmenter(new AugmentOptions { BlurKernel = 4 }, 8));
        Assert.Contains("blur_kernel", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() => new TwoViewAugmenter(new AugmentOptions { Mode = (AugmentMode)7 }, 8));
        Assert.Contains("mode 7", e2.Message);
    }
}
