using AunceSearch.Spec;
using AunceSearch.Training.Data;

namespace AunceSearch.Cli;

/// <summary>Makes sure a spec's dataset exists and is readable before any silo starts.</summary>
public static class DatasetPreparation
{
    /// <summary>
    /// Generates the synthetic dataset when the spec asks for one and it is missing, then reads every fold's lists
    /// and checks that every image exists. Errors name the file (and line). Returns a one-line description.
    /// </summary>
    public static string Check(SweepSpec spec, bool generateIfMissing, TextWriter? log = null)
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
                SyntheticAuFaces.Generate(d.Root, new SyntheticOptions
                {
                    Subjects = syn.Subjects,
                    ImagesPerSubject = syn.ImagesPerSubject,
                    ImageSize = syn.ImageSize,
                    LabelNoise = syn.LabelNoise,
                    OccurrenceRates = syn.OccurrenceRates,
                    Folds = syn.Folds,
                    Seed = syn.Seed,
                    ListName = d.ListName,
                });
            }
            catch (Exception e) when (e is IOException or ArgumentException)
            {
                throw new DataFormatException($"dataset.root: {e.Message}");
            }
        }

        if (!Directory.Exists(d.Root))
        {
            throw new DataFormatException($"dataset.root: {d.Root} does not exist (and the spec has no synthetic section to generate it)");
        }

        var images = 0;
        foreach (var fold in d.Folds)
        {
            foreach (var split in new[] { "train", "test" })
            {
                var s = AuListReader.Read(d.Root, d.ListName, split, fold, d.Aus is { } aus ? [.. aus] : null);
                for (var i = 0; i < s.Count; i++)
                {
                    if (!File.Exists(s.ImagePaths[i]))
                    {
                        throw new DataFormatException($"{d.ListName}_{split}_img_path_fold{fold}.txt:{i + 1}: image {s.ImagePaths[i]} not found");
                    }
                }

                images += s.Count;
            }
        }

        return $"dataset {d.Root}: folds {string.Join(",", d.Folds)} readable ({images} list entries)";
    }
}
