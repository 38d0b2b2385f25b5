using AunceSearch.Contracts;

namespace AunceSearch.Spec;

/// <summary>
/// Parses and validates sweep specifications (the YAML format is documented in README.md) into the typed
/// <see cref="SweepDefinition"/> the cluster receives, section by section (one partial file each). Every error is a
/// <see cref="SpecException"/> naming file:line:column and field.
/// </summary>
public static partial class SweepSpecLoader
{
    /// <summary>Loads a spec file. Relative dataset paths are resolved against the file's folder.</summary>
    public static SweepDefinition LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new SpecException(Directory.Exists(path) ? $"{path}: is a directory, not a sweep spec file" : $"{path}: sweep spec file not found");
        }

        var full = Path.GetFullPath(path);
        return Parse(File.ReadAllText(full), path, Path.GetDirectoryName(full)!);
    }

    /// <summary>Parses spec text; <paramref name="file"/> names it in errors, <paramref name="baseDirectory"/> anchors relative paths.</summary>
    public static SweepDefinition Parse(string yaml, string file, string baseDirectory)
    {
        var root = YamlMap.Load(yaml, file);
        var name = root.String("name") ?? "sweep";
        if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            root.TryNode("name", out var n);
            throw root.Error(n, "name", $"'{name}' must be non-empty and use only letters, digits, '-', '_' and '.'");
        }

        var seed = root.Long("seed") ?? 0;
        if (seed < 0)
        {
            root.TryNode("seed", out var n);
            throw root.Error(n, "seed", "must be >= 0");
        }

        var (dataset, folds) = ReadDataset(root.RequiredMap("dataset"), baseDirectory);
        var model = ReadModel(root.Map("model"), baseDirectory);
        var training = ReadTraining(root.MapOrEmpty("training"));
        var search = ReadSearch(root.RequiredMap("search"), training);
        var retention = ReadRetention(root.Map("checkpoints"));
        root.EnsureNoUnknownKeys();
        return new SweepDefinition(name, (ulong)seed, dataset, folds, model, training, search) { Retention = retention };
    }

    /// <summary>
    /// <c>checkpoints: {keep: best-k, k: 3}</c> (the default: a ResNet-50 + AdamW checkpoint is about 300 MB, so keeping every
    /// fold's every epoch of a 100-trial, 3-fold, 20-epoch sweep would be 1.8 TB) or <c>{keep: all}</c>.
    /// </summary>
    private static CheckpointRetention ReadRetention(YamlMap? map)
    {
        if (map is null)
        {
            return CheckpointRetention.Default;
        }

        var keep = map.Choice("keep", "all", "best-k") ?? "best-k";
        var k = map.Int("k", 1, 100_000);
        if (keep == "all" && k is not null)
        {
            map.TryNode("k", out var n);
            throw map.Error(n, "k", "only applies to keep: best-k");
        }

        map.EnsureNoUnknownKeys();
        return keep == "all" ? CheckpointRetention.All : new CheckpointRetention(RetentionKind.BestK, k ?? CheckpointRetention.Default.K);
    }
}
