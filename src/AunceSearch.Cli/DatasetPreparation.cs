using AunceSearch.Contracts;
using AunceSearch.Model;
using AunceSearch.Training.Data;

namespace AunceSearch.Cli;

/// <summary>Makes sure a spec's dataset exists and is readable before any silo starts.</summary>
public static class DatasetPreparation
{
    /// <summary>
    /// Generates the synthetic dataset when the spec asks for one and it is missing, then reads every fold's lists
    /// and checks that every image exists. Errors name the file (and line). Returns a one-line description.
    /// </summary>
    private static string Where(string? specFile) => specFile is null ? "" : $"{specFile}: ";

    /// <param name="specFile">The spec's file, named in errors about its fields (a corrupted path names the file to fix).</param>
    public static string Check(SweepDefinition spec, bool generateIfMissing, TextWriter? log = null, string? specFile = null)
    {
        var d = spec.Dataset;
        if (d.Synthetic is { } syn && !SyntheticAuFaces.Exists(d.Root, d.ListName, syn.Folds))
        {
            if (!generateIfMissing)
            {
                return $"synthetic dataset {d.Root} will be generated on the first run";
            }

            log?.WriteLine($"generating the synthetic AU dataset in {d.Root} ({syn.Subjects} subjects x {syn.ImagesPerSubject} images) ...");
            try
            {
                SyntheticAuFaces.Generate(d.Root, syn with { ListName = d.ListName });
            }
            catch (Exception e) when (e is IOException or ArgumentException)
            {
                throw new DataFormatException($"{Where(specFile)}dataset.root: {e.Message}");
            }
        }

        if (d.Synthetic is { } wanted)
        {
            CheckManifest(d.Root, wanted);
        }

        if (!Directory.Exists(d.Root))
        {
            throw new DataFormatException($"{Where(specFile)}dataset.root: {d.Root} does not exist (and the spec has no synthetic section to generate it)");
        }

        var images = 0;
        var skipped = 0;
        foreach (var fold in spec.Folds)
        {
            var (train, test) = AuFoldData.ReadSplits(new DatasetSource(d, fold));
            foreach (var s in new[] { train, test })
            {
                for (var i = 0; i < s.Count; i++)
                {
                    if (AuImages.FileProblem(s.ImagePaths[i]) is { } problem)
                    {
                        throw new DataFormatException($"{s.Origin(i)}: {problem}");   // one stat per image: no decode (that is --deep)
                    }
                }

                images += s.Count;
                skipped += s.Skipped.Count;
                foreach (var line in s.Skipped.Take(5))
                {
                    log?.WriteLine($"skipped {line}");
                }
            }
        }

        return $"dataset {d.Root}: folds {string.Join(",", spec.Folds)} readable ({images} list entries" +
               (skipped > 0 ? $", {skipped} bad entries skipped (dataset.skip_bad)" : "") + ")";
    }

    /// <summary>
    /// <c>sweep validate --deep</c>: decodes every image every fold lists (each file once) and reports every problem at
    /// once, each with the list line(s) naming the image. Without dataset.skip_bad any problem is an error; with it the
    /// problems are the entries training will skip, printed as warnings. Returns a one-line summary.
    /// </summary>
    public static string DeepCheck(SweepDefinition spec, TextWriter log)
    {
        var d = spec.Dataset;
        if (d.Synthetic is { } syn && !SyntheticAuFaces.Exists(d.Root, d.ListName, syn.Folds))
        {
            return "no images to decode yet (the synthetic dataset is generated on the first run)";
        }

        var origins = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var fold in spec.Folds)
        {
            var (train, test) = AuFoldData.ReadSplits(new DatasetSource(d, fold));
            foreach (var s in new[] { train, test })
            {
                for (var i = 0; i < s.Count; i++)
                {
                    if (!origins.TryGetValue(s.ImagePaths[i], out var list))
                    {
                        origins[s.ImagePaths[i]] = list = [];
                    }

                    if (list.Count < 3)
                    {
                        list.Add(s.Origin(i));
                    }
                }
            }
        }

        var paths = origins.Keys.ToArray();
        var problems = new string?[paths.Length];
        var bytes = 3 * d.ImageSize * d.ImageSize;
        using var buffer = new ThreadLocal<byte[]>(() => new byte[bytes]);
        Parallel.For(0, paths.Length, i => problems[i] = AuImages.TryDecode(paths[i], d.ImageSize, buffer.Value));
        var bad = Enumerable.Range(0, paths.Length).Where(i => problems[i] is not null)
            .Select(i => $"{string.Join(", ", origins[paths[i]])}: {problems[i]}")
            .Order(StringComparer.Ordinal).ToList();
        if (bad.Count > 0 && !d.SkipBad)
        {
            throw new DataFormatException($"{bad.Count} of {paths.Length} images cannot be used (dataset.skip_bad: true would skip them):\n  " + string.Join("\n  ", bad));
        }

        foreach (var line in bad)
        {
            log.WriteLine($"warning: will skip {line}");
        }

        return $"all {paths.Length} images decode completely at {d.ImageSize}x{d.ImageSize}" + (bad.Count > 0 ? $" except {bad.Count}, which training will skip (dataset.skip_bad)" : "");
    }

    /// <summary>A synthetic dataset generated with other parameters than the spec asks for is an error, not a silent reuse.</summary>
    private static void CheckManifest(string root, SyntheticOptions wanted)
    {
        var file = Path.Combine(root, "synthetic.json");
        if (!File.Exists(file))
        {
            return;
        }

        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
        var m = doc.RootElement;
        var differences = new List<string>();
        void Compare(string name, string json, double expected)
        {
            if (m.TryGetProperty(json, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.Number && Math.Abs(v.GetDouble() - expected) > 1e-12)
            {
                differences.Add($"{name} {v.GetDouble()} (spec: {expected})");
            }
        }

        Compare("subjects", "Subjects", wanted.Subjects);
        Compare("images_per_subject", "ImagesPerSubject", wanted.ImagesPerSubject);
        Compare("image_size", "ImageSize", wanted.ImageSize);
        Compare("label_noise", "LabelNoise", wanted.LabelNoise);
        Compare("folds", "Folds", wanted.Folds);
        Compare("seed", "Seed", wanted.Seed);
        if (m.TryGetProperty("OccurrenceRates", out var rates) &&
            !rates.EnumerateArray().Select(r => r.GetDouble()).SequenceEqual(wanted.OccurrenceRates))
        {
            differences.Add("occurrence_rates");
        }

        if (differences.Count > 0)
        {
            throw new DataFormatException(
                $"{file}: the synthetic dataset at dataset.root was generated with other parameters ({string.Join(", ", differences)}); " +
                "delete that directory to regenerate it, or point dataset.root elsewhere");
        }
    }
}
