using AunceSearch.Model;

namespace AunceSearch.Spec;

/// <summary>The spec loader: the <c>model:</c> section.</summary>
public static partial class SweepSpecLoader
{
    private static ModelOptions ReadModel(YamlMap? map, string baseDirectory)
    {
        if (map is null)
        {
            return new ModelOptions();
        }

        int[]? IntList(string key)
        {
            if (map.List(key) is not { } items)
            {
                return null;
            }

            map.TryNode(key, out var node);
            if (items.Count != 4)
            {
                throw map.Error(node, key, $"give one value per stage (4), got {items.Count}");
            }

            return [.. items.Select(i =>
            {
                var v = map.ParseLong(i, key);
                return v is >= 1 and <= 1024 ? (int)v : throw map.Error(i, key, $"values must be in [1, 1024], got {v}");
            })];
        }

        var pretrained = map.String("pretrained");
        if (pretrained is not null)
        {
            map.TryNode("pretrained", out var node);
            pretrained = Path.GetFullPath(Path.Combine(baseDirectory, pretrained));
            if (!File.Exists(pretrained))
            {
                throw map.Error(node, "pretrained", $"file not found: {pretrained}");
            }
        }

        var spec = new ModelOptions
        {
            Encoder = map.Choice("encoder", ModelOptions.Encoders) ?? "small-cnn",
            Width = map.Int("width", 4, 1024) ?? 0,
            FeatureDim = map.Int("feature_dim", 2, 8192) ?? 32,
            Neighbors = map.Int("neighbors", 1, 1024) ?? 4,
            EmbedDim = map.Int("embed_dim", 4, 4096),
            Depths = IntList("depths"),
            Heads = IntList("heads"),
            Window = map.Int("window", 1, 64),
            DropPath = map.Double("drop_path") is { } dp ? (dp is >= 0 and < 1 ? dp : throw map.Error("drop_path must be in [0, 1)")) : null,
            Pretrained = pretrained,
        };
        if (spec.Pretrained is not null && spec.Encoder == "small-cnn")
        {
            throw map.Error("pretrained weights need a resnet or swin encoder, not small-cnn");
        }

        map.EnsureNoUnknownKeys();
        return spec;
    }
}
