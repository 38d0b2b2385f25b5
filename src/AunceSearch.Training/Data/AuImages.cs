using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Data;

/// <summary>Decodes image files into normalised tensors.</summary>
public static class AuImages
{
    /// <summary>The reference's normalisation constants (CIFAR mean/std, aunce-reference §4.2).</summary>
    public static readonly float[] Mean = [0.4914f, 0.4822f, 0.4465f];
    public static readonly float[] Std = [0.2023f, 0.1994f, 0.2010f];

    /// <summary>
    /// Decodes <paramref name="paths"/> in parallel, resizes each to <paramref name="size"/>² and returns a
    /// (N, 3, size, size) float tensor in [0, 1] (not yet normalised). A missing or undecodable file fails with
    /// its path and the list file line that names it.
    /// </summary>
    public static Tensor Load(IReadOnlyList<string> paths, int size, string listDescription)
    {
        var plane = size * size;
        var buffer = new float[paths.Count * 3 * plane];
        Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, i =>
        {
            var path = paths[i];
            if (!File.Exists(path))
            {
                throw new DataFormatException($"{path}: image not found (entry {i + 1} of {listDescription})");
            }

            using var decoded = SKBitmap.Decode(path)
                ?? throw new DataFormatException($"{path}: cannot decode image (entry {i + 1} of {listDescription})");
            using var resized = decoded.Width == size && decoded.Height == size && decoded.ColorType == SKColorType.Rgba8888
                ? decoded.Copy()
                : decoded.Resize(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul), SKFilterQuality.Medium);
            var pixels = resized.Pixels;
            var offset = i * 3 * plane;
            for (var p = 0; p < plane; p++)
            {
                var c = pixels[p];
                buffer[offset + p] = c.Red / 255f;
                buffer[offset + plane + p] = c.Green / 255f;
                buffer[offset + (2 * plane) + p] = c.Blue / 255f;
            }
        });
        return torch.tensor(buffer, [paths.Count, 3, size, size]);
    }

    /// <summary>(x − mean) / std per channel, on (N, 3, H, W).</summary>
    public static Tensor Normalize(Tensor images)
    {
        using var scope = NewDisposeScope();
        var mean = torch.tensor(Mean, device: images.device).view(1, 3, 1, 1);
        var std = torch.tensor(Std, device: images.device).view(1, 3, 1, 1);
        return images.sub(mean).div_(std).MoveToOuterDisposeScope();
    }
}
