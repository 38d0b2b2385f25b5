using System.Globalization;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Data;

/// <summary>Decodes image files into uint8 CHW planes, and the reference's normalisation.</summary>
public static class AuImages
{
    /// <summary>The reference's normalisation constants (CIFAR mean/std, aunce-reference §4.2).</summary>
    public static readonly float[] Mean = [0.4914f, 0.4822f, 0.4465f];
    public static readonly float[] Std = [0.2023f, 0.1994f, 0.2010f];

    /// <summary>The most pixels one image may decode to (after the decoder's own scaling): 64 million, 256 MB as RGBA.</summary>
    public const long MaxDecodedPixels = 64_000_000;

    /// <summary>
    /// What is wrong with <paramref name="path"/> as an image file before it is read, or null: missing, a directory, a
    /// link to nothing, not a regular file (a device, a pipe). One stat: cheap at BP4D's 146,000 images.
    /// </summary>
    public static string? FileProblem(string path)
    {
        if (Directory.Exists(path))
        {
            return $"image {path} is a directory, not an image file";
        }

        var info = new FileInfo(path);   // exists for a link whatever its target: .NET falls back to the link itself
        if (info.Exists && info.LinkTarget is { } link)
        {
            FileSystemInfo? target;
            try
            {
                target = info.ResolveLinkTarget(returnFinalTarget: true);
            }
            catch (IOException)
            {
                target = null;   // a loop of links
            }

            if (target is null || !target.Exists)
            {
                return $"image {path} is a link to {link}, which does not exist";
            }
        }

        return !info.Exists ? $"image {path} not found"
            : (info.Attributes & FileAttributes.Device) != 0 ? $"image {path} is not a regular file"
            : null;
    }

    /// <summary>
    /// Decodes <paramref name="path"/>, resizes it to <paramref name="size"/>² when it has another size, and writes its RGB
    /// planes (3·size² bytes, CHW) to <paramref name="destination"/>. Returns null, or what is wrong (file missing, not an
    /// image SkiaSharp can decode).
    /// </summary>
    public static string? TryDecode(string path, int size, Span<byte> destination)
    {
        if (FileProblem(path) is { } problem)
        {
            return problem;
        }

        // SKCodec rather than SKBitmap.Decode: Decode hands back a partly filled bitmap for a truncated file (the rest
        // left grey), and that image would train with its labels as if it were whole. Anything short of a complete
        // decode is an error here.
        SKBitmap decoded;
        try
        {
            using var codec = SKCodec.Create(path, out var opened);
            if (codec is null)
            {
                return $"cannot decode image {path} ({Describe(opened)})";
            }

            var (width, height) = (codec.Info.Width, codec.Info.Height);
            if (width <= 0 || height <= 0)
            {
                return $"cannot decode image {path} (it has no pixels)";
            }

            // JPEG (and WebP) decode at 1/8, 1/4 or 1/2 of their size in the decoder itself: the smallest that still covers
            // the target is decoded, far faster than the whole frame, and resized from there.
            var target = codec.Info.Size;
            if (Math.Min(width, height) > size)
            {
                foreach (var scale in new[] { 0.125f, 0.25f, 0.5f })
                {
                    var scaled = codec.GetScaledDimensions(scale);
                    if (scaled.Width >= size && scaled.Height >= size && scaled.Width < width)
                    {
                        target = scaled;
                        break;
                    }
                }
            }

            // The header's size is checked before any pixel memory is taken: a 20,000 x 20,000 header would otherwise ask
            // for 1.6 GB, per decoding thread.
            if ((long)target.Width * target.Height > MaxDecodedPixels)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"image {path} is {width}x{height} ({(double)width * height / 1e6:0.#} megapixels): images that decode to over {MaxDecodedPixels / 1_000_000} megapixels are refused before decoding (scale the dataset's images down, e.g. to {size}x{size})");
            }

            var info = new SKImageInfo(target.Width, target.Height, SKColorType.Rgba8888, SKAlphaType.Premul);

            decoded = new SKBitmap(info);
            var result = codec.GetPixels(info, decoded.GetPixels());
            if (result != SKCodecResult.Success)
            {
                decoded.Dispose();
                return $"cannot decode image {path} ({Describe(result)})";
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return $"cannot read image {path}: {e.Message}";
        }

        using (decoded)
        {
            using var resized = decoded.Width == size && decoded.Height == size && decoded.ColorType == SKColorType.Rgba8888
                ? null
                : decoded.Resize(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul), SKFilterQuality.Medium);
            var bitmap = resized ?? decoded;
            if (bitmap is null)
            {
                return $"cannot resize image {path}";
            }

            var plane = size * size;
            var pixels = bitmap.GetPixelSpan();   // RGBA8888
            for (var p = 0; p < plane; p++)
            {
                destination[p] = pixels[4 * p];
                destination[plane + p] = pixels[(4 * p) + 1];
                destination[(2 * plane) + p] = pixels[(4 * p) + 2];
            }
        }

        return null;
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "the file is truncated: the image data ends before the last row",
        SKCodecResult.ErrorInInput => "the image data is damaged",
        SKCodecResult.InvalidInput or SKCodecResult.Unimplemented => "not an image format this build can read (PNG, JPEG, BMP, GIF, WebP)",
        _ => $"decoder error {result}",
    };

    /// <summary>
    /// Decodes entries <paramref name="indices"/> of <paramref name="split"/> in parallel. A bad image fails with its list
    /// line, or with <paramref name="skipBad"/> is recorded in <paramref name="failures"/> (index → reason) and left out:
    /// <c>Kept</c> are the decoded entries, in order, and <c>Pixels</c> holds exactly their images (3·size² bytes each), in
    /// <paramref name="reuse"/> when it is given and of the right length.
    /// </summary>
    public static (byte[] Pixels, long[] Kept) DecodeMany(AuSplit split, IReadOnlyList<long> indices, int size, int workers, bool skipBad,
        System.Collections.Concurrent.ConcurrentDictionary<long, string>? failures, byte[]? reuse = null)
    {
        var bytes = 3 * size * size;
        var buffer = reuse is not null && reuse.Length == indices.Count * bytes ? reuse : GC.AllocateUninitializedArray<byte>(indices.Count * bytes);
        var failed = new bool[indices.Count];
        try
        {
            Parallel.For(0, indices.Count, new ParallelOptions { MaxDegreeOfParallelism = workers > 0 ? workers : Environment.ProcessorCount }, j =>
            {
                var i = (int)indices[j];
                var problem = TryDecode(split.ImagePaths[i], size, buffer.AsSpan(j * bytes, bytes));
                if (problem is null)
                {
                    return;
                }

                if (!skipBad || failures is null)
                {
                    throw new DataFormatException($"{split.Origin(i)}: {problem}");
                }

                failures[i] = $"{split.Origin(i)}: {problem}";
                failed[j] = true;
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.OfType<DataFormatException>().FirstOrDefault() is { } first)
        {
            throw new DataFormatException(first.Message);
        }

        if (!failed.Contains(true))
        {
            return (buffer, [.. indices]);
        }

        // Close the gaps the failed images left.
        var kept = new List<long>(indices.Count);
        for (var j = 0; j < indices.Count; j++)
        {
            if (!failed[j])
            {
                buffer.AsSpan(j * bytes, bytes).CopyTo(buffer.AsSpan(kept.Count * bytes, bytes));
                kept.Add(indices[j]);
            }
        }

        return (buffer[..(kept.Count * bytes)], [.. kept]);
    }

    /// <summary>uint8 (N, 3, H, W) → float in [0, 1].</summary>
    public static Tensor ToUnit(Tensor bytes) => bytes.to(ScalarType.Float32).div_(255f);

    /// <summary>(x − mean) / std per channel, on (N, 3, H, W).</summary>
    public static Tensor Normalize(Tensor images)
    {
        using var scope = NewDisposeScope();
        var mean = torch.tensor(Mean, device: images.device).view(1, 3, 1, 1);
        var std = torch.tensor(Std, device: images.device).view(1, 3, 1, 1);
        return images.sub(mean).div_(std).MoveToOuterDisposeScope();
    }
}
