using System.Collections.Immutable;
using System.Globalization;
using AunceSearch.Model;

namespace AunceSearch.Spec;

/// <summary>The spec loader: the <c>dataset:</c> section.</summary>
public static partial class SweepSpecLoader
{
    private static (DatasetOptions Dataset, int[] Folds) ReadDataset(YamlMap map, string baseDirectory)
    {
        var format = map.Choice("format", Formats) ?? "aunce-list";
        var root = map.RequiredString("root");
        var listName = map.String("list_name") ?? "SYN";
        var folds = (map.List("folds") ?? []).Select(n => (int)map.ParseLong(n, "folds")).ToImmutableArray();
        if (!map.Has("folds"))
        {
            folds = [1, 2, 3];
        }

        if (folds.Length == 0 || folds.Any(f => f < 1) || folds.Distinct().Count() != folds.Length)
        {
            map.TryNode("folds", out var n);
            throw map.Error(n, "folds", "must be a non-empty list of distinct fold numbers >= 1");
        }

        var aus = map.StringList("aus")?.ToImmutableArray();
        if (aus is { Length: 0 })
        {
            map.TryNode("aus", out var n);
            throw map.Error(n, "aus", "must list at least one AU");
        }

        var imageSize = map.Int("image_size", 16, 1024) ?? 48;
        var cropSize = map.Int("crop_size", 8, 1024) ?? 0;
        if (cropSize > imageSize)
        {
            map.TryNode("crop_size", out var n);
            throw map.Error(n, "crop_size", $"{cropSize} is larger than image_size {imageSize}");
        }

        var split = map.Choice("split", Splits) ?? (format == "table" ? "subjects" : "lists");
        if (format == "aunce-list" && split != "lists")
        {
            map.TryNode("split", out var n);
            throw map.Error(n, "split", "the aunce-list layout's folds are its list files (split: lists); use format: table to split by subject parts");
        }

        var parts = (map.List("parts") ?? []).Select(node => node is YamlDotNet.RepresentationModel.YamlSequenceNode seq
                ? seq.Children.Select(c => (c as YamlDotNet.RepresentationModel.YamlScalarNode)?.Value ?? throw map.Error(c, "parts", "subject ids must be scalars")).ToImmutableArray()
                : throw map.Error(node, "parts", "each part must be a list of subject ids")).ToImmutableArray();
        if (split == "parts" && parts.Length < 2)
        {
            throw map.Error("split: parts needs 'parts' with at least two lists of subject ids");
        }

        if (split != "parts" && map.TryNode("parts", out var partsNode))
        {
            throw map.Error(partsNode, "parts", "only used with split: parts");
        }

        var dupSubject = parts.SelectMany(p => p).GroupBy(x => x, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dupSubject is not null)
        {
            map.TryNode("parts", out var n);
            throw map.Error(n, "parts", $"subject {dupSubject.Key} is in more than one part");
        }

        var splitFolds = map.Int("split_folds", 2, 1000) ?? 3;
        var foldLists = map.String("fold_lists");
        if (format == "table" && split == "lists" && foldLists is null)
        {
            throw map.Error("a table split by lists needs 'fold_lists', e.g. folds/{split}_fold{fold}.txt");
        }

        if (foldLists is not null && (format != "table" || split != "lists"))
        {
            map.TryNode("fold_lists", out var n);
            throw map.Error(n, "fold_lists", "only used with format: table and split: lists");
        }

        var partCount = split switch
        {
            "bp4d" or "disfa" => 3,
            "parts" => parts.Length,
            "subjects" => splitFolds,
            _ => int.MaxValue,
        };
        if (folds.Max() > partCount)
        {
            map.TryNode("folds", out var n);
            throw map.Error(n, "folds", $"fold {folds.Max()} does not exist: split {split} has {partCount} folds");
        }

        var labels = map.String("labels") ?? "labels.csv";
        var images = map.String("images") ?? "";
        if (format != "table" && (map.Has("labels") || map.Has("images")))
        {
            throw map.Error("'labels' and 'images' are only used with format: table");
        }

        var skipBad = map.Bool("skip_bad") ?? false;
        var cache = map.Choice("cache", "auto", "memory", "stream") ?? "auto";
        var workers = map.Int("workers", 0, 256) ?? 0;
        var prefetch = map.Int("prefetch", 1, 64) ?? 4;
        SyntheticOptions? synthetic = null;
        if (map.Map("synthetic") is { } syn)
        {
            var rates = syn.List("occurrence_rates")?.Select(n => syn.ParseDouble(n, "occurrence_rates")).ToImmutableArray()
                        ?? [.. SyntheticOptions.Bp4dOccurrence];
            if (rates.Any(r => r <= 0 || r >= 1))
            {
                syn.TryNode("occurrence_rates", out var n);
                throw syn.Error(n, "occurrence_rates", "every rate must be strictly between 0 and 1");
            }

            var noise = syn.Double("label_noise") ?? 0.05;
            if (noise is < 0 or >= 0.5)
            {
                syn.TryNode("label_noise", out var n);
                throw syn.Error(n, "label_noise", $"must be in [0, 0.5), got {noise.ToString(CultureInfo.InvariantCulture)}");
            }

            synthetic = new SyntheticOptions
            {
                Subjects = syn.Int("subjects", 3, 10_000) ?? 12,
                ImagesPerSubject = syn.Int("images_per_subject", 1, 1_000_000) ?? 40,
                ImageSize = syn.Int("image_size", 32, 512) ?? 64,
                LabelNoise = noise,
                OccurrenceRates = [.. rates],
                Folds = syn.Int("folds", 2, 100) ?? 3,
                Seed = syn.Int("seed", 0) ?? 1,
            };
            syn.EnsureNoUnknownKeys();
            if (aus is { } a && a.Length != rates.Length)
            {
                throw map.Error($"aus lists {a.Length} AUs but synthetic.occurrence_rates has {rates.Length}");
            }

            if (format != "aunce-list")
            {
                throw map.Error("a synthetic dataset is generated in the aunce-list layout; remove 'format: table'");
            }

            if (folds.Max() > synthetic.Folds)
            {
                map.TryNode("folds", out var n);
                throw map.Error(n, "folds", $"fold {folds.Max()} does not exist: synthetic.folds is {synthetic.Folds}");
            }
        }

        map.EnsureNoUnknownKeys();
        return (new DatasetOptions
        {
            Format = format == "table" ? DatasetFormat.Table : DatasetFormat.AunceList,
            Root = Path.GetFullPath(Path.Combine(baseDirectory, root)),
            ListName = listName,
            AuNames = aus is { } names ? [.. names] : null,
            ImageSize = imageSize,
            Synthetic = synthetic,
            Labels = labels,
            Images = images,
            Split = Enum.Parse<DatasetSplit>(split, ignoreCase: true),
            Parts = parts.IsDefaultOrEmpty ? null : [.. parts.Select(p => p.ToArray())],
            SplitFolds = splitFolds,
            FoldLists = foldLists,
            CropSize = cropSize,
            SkipBad = skipBad,
            Cache = Enum.Parse<DataCacheMode>(cache, ignoreCase: true),
            Workers = workers,
            Prefetch = prefetch,
        }, [.. folds]);
    }

    /// <summary>The dataset layouts (<c>dataset.format</c>).</summary>
    public static readonly string[] Formats = ["aunce-list", "table"];

    /// <summary>The fold splits (<c>dataset.split</c>): the layout's list files, the published BP4D/DISFA parts, given parts, or round-robin subjects.</summary>
    public static readonly string[] Splits = ["lists", "bp4d", "disfa", "parts", "subjects"];
}
