using System.Globalization;
using System.Text.Json;
using AunceSearch.Model;
using SkiaSharp;

namespace AunceSearch.Training.Data;

/// <summary>
/// Generates small face-like images whose action units change local structure (brows, eyes, cheeks, mouth
/// corners, lips, chin), with per-subject appearance, imbalanced per-AU occurrence, label noise and subject ids,
/// and writes them in the AUNCE list-file layout so that they are read back by <see cref="AuListReader"/> exactly
/// like BP4D or DISFA lists. Subjects are split into folds subject-exclusively.
/// </summary>
public static class SyntheticAuFaces
{
    /// <summary>The AUs the generator can render, in BP4D's column order.</summary>
    public static readonly string[] AuNames = ["AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU14", "AU15", "AU17", "AU23", "AU24"];

    public const int MaxAus = 12;

    /// <summary>True when the layout for every fold in 1..folds exists under <paramref name="root"/>.</summary>
    public static bool Exists(string root, string listName, int folds)
    {
        var list = Path.Combine(root, "list");
        return Enumerable.Range(1, folds).All(f =>
            File.Exists(Path.Combine(list, $"{listName}_train_label_fold{f}.txt")) &&
            File.Exists(Path.Combine(list, $"{listName}_test_label_fold{f}.txt")));
    }

    /// <summary>
    /// Writes the dataset to <paramref name="root"/> (into a temporary sibling first, then moved into place, so an
    /// interrupted run never leaves a half-written dataset). Fails if <paramref name="root"/> exists and is not empty.
    /// </summary>
    public static void Generate(string root, SyntheticOptions options)
    {
        Validate(options);
        root = Path.GetFullPath(root);
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
        {
            throw new IOException($"{root}: refusing to generate a synthetic dataset into a non-empty directory");
        }

        var parent = Path.GetDirectoryName(root)!;
        Directory.CreateDirectory(parent);
        var tmp = Path.Combine(parent, $".{Path.GetFileName(root)}.tmp-{Environment.ProcessId}");
        if (Directory.Exists(tmp))
        {
            Directory.Delete(tmp, recursive: true);
        }

        var c = options.OccurrenceRates.Count;
        var rng = new Random(options.Seed);
        var images = new List<(string Rel, int Subject, int[] Labels)>();
        for (var s = 0; s < options.Subjects; s++)
        {
            var subject = Subject.Create(rng, options.ImageSize);
            var subjectDir = Path.Combine(tmp, "img", $"S{s + 1:D3}");
            Directory.CreateDirectory(subjectDir);
            for (var i = 0; i < options.ImagesPerSubject; i++)
            {
                var active = new bool[c];
                for (var k = 0; k < c; k++)
                {
                    active[k] = rng.NextDouble() < options.OccurrenceRates[k];
                }

                // Anatomical couplings seen in real data: a smile (AU12) often raises the cheeks (AU6).
                if (c > 6 && active[6] && rng.NextDouble() < 0.5)
                {
                    active[3] = true;
                }

                var rel = $"S{s + 1:D3}/{i:D4}.png";
                using (var bitmap = Render(subject, active, rng, options.ImageSize))
                using (var file = File.Create(Path.Combine(tmp, "img", rel)))
                {
                    bitmap.Encode(file, SKEncodedImageFormat.Png, 100);
                }

                var labels = active.Select(a => (a ^ (rng.NextDouble() < options.LabelNoise)) ? 1 : 0).ToArray();
                images.Add((rel, s, labels));
            }
        }

        var listDir = Path.Combine(tmp, "list");
        Directory.CreateDirectory(listDir);
        File.WriteAllText(Path.Combine(listDir, "au_names.txt"), string.Join(" ", AuNames.Take(c)) + "\n");
        for (var f = 1; f <= options.Folds; f++)
        {
            // Subject-exclusive: subject s belongs to part s mod F; fold f tests part f-1 and trains on the rest.
            var testPart = f - 1;
            WriteSplit(listDir, options.ListName, "train", f, images.Where(x => x.Subject % options.Folds != testPart));
            WriteSplit(listDir, options.ListName, "test", f, images.Where(x => x.Subject % options.Folds == testPart));
        }

        var manifest = new
        {
            generator = "AunceSearch synthetic AU faces v2",
            options.Subjects,
            options.ImagesPerSubject,
            options.ImageSize,
            options.LabelNoise,
            options.OccurrenceRates,
            options.Folds,
            options.Seed,
            aus = AuNames.Take(c),
        };
        File.WriteAllText(Path.Combine(tmp, "synthetic.json"), JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        if (Directory.Exists(root))
        {
            Directory.Delete(root);
        }

        Directory.Move(tmp, root);
    }

    private static void Validate(SyntheticOptions o)
    {
        if (o.OccurrenceRates.Count is < 1 or > MaxAus)
        {
            throw new ArgumentException($"occurrence_rates: the generator renders 1 to {MaxAus} AUs, got {o.OccurrenceRates.Count}");
        }

        if (o.Subjects < o.Folds)
        {
            throw new ArgumentException($"subjects ({o.Subjects}) must be at least the number of folds ({o.Folds})");
        }
    }

    private static void WriteSplit(string listDir, string name, string split, int fold, IEnumerable<(string Rel, int Subject, int[] Labels)> rows)
    {
        var list = rows.ToList();
        File.WriteAllLines(Path.Combine(listDir, $"{name}_{split}_img_path_fold{fold}.txt"), list.Select(r => r.Rel));
        File.WriteAllLines(Path.Combine(listDir, $"{name}_{split}_label_fold{fold}.txt"),
            list.Select(r => string.Join(" ", r.Labels.Select(l => l.ToString(CultureInfo.InvariantCulture)))));
    }

    /// <summary>Per-subject appearance.</summary>
    private sealed record Subject(SKColor Skin, SKColor Background, SKColor Lip, float FaceW, float FaceH, float EyeGap, float BrowThick, float MouthW, float Dx, float Dy)
    {
        public static Subject Create(Random r, int size)
        {
            byte C(double lo, double hi) => (byte)(lo + (r.NextDouble() * (hi - lo)));
            var tone = r.NextDouble();
            var skin = new SKColor(C(120 + (100 * tone), 140 + (100 * tone)), C(80 + (90 * tone), 100 + (90 * tone)), C(60 + (80 * tone), 80 + (80 * tone)));
            var bg = new SKColor(C(20, 200), C(20, 200), C(20, 200));
            var lip = new SKColor(C(120, 190), C(40, 80), C(50, 90));
            return new Subject(skin, bg, lip,
                FaceW: size * (float)(0.30 + (0.06 * r.NextDouble())),
                FaceH: size * (float)(0.40 + (0.06 * r.NextDouble())),
                EyeGap: size * (float)(0.13 + (0.04 * r.NextDouble())),
                BrowThick: size * (float)(0.025 + (0.02 * r.NextDouble())),
                MouthW: size * (float)(0.12 + (0.05 * r.NextDouble())),
                Dx: size * (float)((r.NextDouble() - 0.5) * 0.06),
                Dy: size * (float)((r.NextDouble() - 0.5) * 0.06));
        }
    }

    private static SKBitmap Render(Subject s, bool[] au, Random r, int size)
    {
        bool A(int k) => k < au.Length && au[k];
        float I() => (float)(0.7 + (0.3 * r.NextDouble())); // per-image AU intensity
        var u = size / 64f;
        var bitmap = new SKBitmap(size, size, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(s.Background);
        var cx = (size / 2f) + s.Dx + ((float)(r.NextDouble() - 0.5) * 3 * u);
        var cy = (size / 2f) + s.Dy + ((float)(r.NextDouble() - 0.5) * 3 * u);
        canvas.RotateDegrees((float)((r.NextDouble() - 0.5) * 8), cx, cy);
        using var fill = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        using var stroke = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeCap = SKStrokeCap.Round };
        fill.Color = s.Skin;
        canvas.DrawOval(cx, cy, s.FaceW, s.FaceH, fill);

        var dark = new SKColor(40, 28, 22);
        var eyeY = cy - (8 * u);
        var browY = eyeY - (7 * u);

        // Brows: AU1 raises the inner ends, AU2 the outer ends, AU4 lowers them and pulls them together. (v2: displacements
        // large enough to survive the 7/8 crops and downscaling to 48 px, about 8 % of the face height as in real AU1/2.)
        var inner = A(0) ? 5.5f * u * I() : 0;
        var outer = A(1) ? 5.5f * u * I() : 0;
        var lower = A(2) ? 3.5f * u * I() : 0;
        var pull = A(2) ? 2f * u : 0;
        stroke.Color = dark;
        stroke.StrokeWidth = s.BrowThick;
        foreach (var side in new[] { -1f, 1f })
        {
            var xi = cx + (side * ((s.EyeGap * 0.35f) - pull));
            var xo = cx + (side * (s.EyeGap * 1.25f));
            canvas.DrawLine(xi, browY - inner + lower, xo, browY - outer + lower, stroke);
        }

        // Eyes: AU7 tightens the lids, AU6 raises the cheeks (cheek bulges, eyes slightly narrowed).
        var eyeH = 2.6f * u * (A(4) ? 0.35f : 1f) * (A(3) ? 0.8f : 1f);
        fill.Color = new SKColor(245, 245, 240);
        foreach (var side in new[] { -1f, 1f })
        {
            var ex = cx + (side * s.EyeGap * 0.8f);
            fill.Color = new SKColor(245, 245, 240);
            canvas.DrawOval(ex, eyeY, 4.5f * u, eyeH, fill);
            fill.Color = dark;
            canvas.DrawCircle(ex, eyeY, Math.Min(eyeH, 1.8f * u), fill);
            if (A(3))
            {
                fill.Color = s.Skin.WithRed((byte)Math.Min(255, s.Skin.Red + 40)).WithGreen((byte)Math.Max(0, s.Skin.Green - 15));
                canvas.DrawOval(ex + (side * 2 * u), eyeY + (7 * u), 5 * u * I(), 3 * u, fill);
            }
        }

        // Nose.
        stroke.StrokeWidth = 1.2f * u;
        stroke.Color = s.Skin.WithRed((byte)(s.Skin.Red * 0.7)).WithGreen((byte)(s.Skin.Green * 0.7)).WithBlue((byte)(s.Skin.Blue * 0.7));
        canvas.DrawLine(cx, eyeY + (2 * u), cx - (1.5f * u), eyeY + (11 * u), stroke);

        // Mouth: AU12 pulls the corners up, AU15 down, AU10 raises the upper lip, AU23 thins the lips,
        // AU24 presses them (flat, dark line), AU14 dimples the corners, AU17 raises the chin.
        var mouthY = cy + (14 * u);
        var corner = (A(6) ? -4.5f * u * I() : 0) + (A(8) ? 5f * u * I() : 0);
        var upper = A(5) ? 3f * u * I() : 0;
        var thick = 2.6f * u * (A(10) ? 0.3f : 1f) * (A(11) ? 0.5f : 1f);
        var halfW = s.MouthW * (A(6) ? 1.15f : 1f) * (A(11) ? 0.85f : 1f);
        using var lipPath = new SKPath();
        lipPath.MoveTo(cx - halfW, mouthY + corner);
        lipPath.QuadTo(cx, mouthY - thick - upper, cx + halfW, mouthY + corner);
        lipPath.QuadTo(cx, mouthY + thick + (A(11) ? 0 : 1.5f * u), cx - halfW, mouthY + corner);
        fill.Color = A(11) ? s.Lip.WithRed((byte)(s.Lip.Red * 0.45)).WithGreen((byte)(s.Lip.Green * 0.5)).WithBlue((byte)(s.Lip.Blue * 0.5)) : s.Lip;
        canvas.DrawPath(lipPath, fill);
        if (A(5))
        {
            fill.Color = new SKColor(235, 235, 225);
            canvas.DrawOval(cx, mouthY - (thick * 0.5f), halfW * 0.45f, Math.Max(0.8f * u, upper * 0.35f), fill);
        }

        if (A(7))
        {
            fill.Color = dark.WithAlpha(200);
            canvas.DrawCircle(cx - halfW - (1.8f * u), mouthY + corner, 1.8f * u, fill);
            canvas.DrawCircle(cx + halfW + (1.8f * u), mouthY + corner, 1.8f * u, fill);
        }

        if (A(9))
        {
            // The chin boss pushed up: a darker, wrinkled bulge under the lower lip.
            fill.Color = s.Skin.WithRed((byte)(s.Skin.Red * 0.75)).WithGreen((byte)(s.Skin.Green * 0.72)).WithBlue((byte)(s.Skin.Blue * 0.72));
            canvas.DrawOval(cx, mouthY + (8 * u), 5.5f * u, 2.8f * u * I(), fill);
            stroke.StrokeWidth = 1.6f * u;
            stroke.Color = s.Skin.WithRed((byte)(s.Skin.Red * 0.5)).WithGreen((byte)(s.Skin.Green * 0.5)).WithBlue((byte)(s.Skin.Blue * 0.5));
            using var chin = new SKPath();
            chin.MoveTo(cx - (5 * u), mouthY + (9 * u));
            chin.QuadTo(cx, mouthY + (5 * u), cx + (5 * u), mouthY + (9 * u));
            canvas.DrawPath(chin, stroke);
        }

        canvas.Flush();
        AddNoise(bitmap, r, (float)(4 + (6 * r.NextDouble())), (float)(0.8 + (0.4 * r.NextDouble())));
        return bitmap;
    }

    private static void AddNoise(SKBitmap bitmap, Random r, float sigma, float gain)
    {
        var pixels = bitmap.Pixels;
        for (var i = 0; i < pixels.Length; i++)
        {
            var p = pixels[i];
            var n = (float)(sigma * Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble()));
            byte Ch(byte v) => (byte)Math.Clamp((v * gain) + n, 0, 255);
            pixels[i] = new SKColor(Ch(p.Red), Ch(p.Green), Ch(p.Blue), 255);
        }

        bitmap.Pixels = pixels;
    }
}
