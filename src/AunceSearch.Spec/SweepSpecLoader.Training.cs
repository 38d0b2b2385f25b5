using System.Globalization;
using AunceSearch.Contracts;
using AunceSearch.Model;
using YamlDotNet.RepresentationModel;

namespace AunceSearch.Spec;

/// <summary>The spec loader: the <c>training:</c> section and its augmentation.</summary>
public static partial class SweepSpecLoader
{
    private static TrainingDefinition ReadTraining(YamlMap map)
    {
        var hp = TrainingVocabulary.Hyperparameters.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

        foreach (var key in TrainingVocabulary.Hyperparameters.Keys)
        {
            if (map.TryNode(key, out var node))
            {
                hp[key] = map.ParseDouble(node, key);
                CheckHyperparameter(map, node, key, hp[key]);
            }
        }

        var sum = TrainingVocabulary.Probabilities.Sum(p => hp[p]);
        if (Math.Abs(sum - 1.0) > 1e-6)
        {
            throw map.Error($"the positive-pair probabilities p_max + p_aug + p_mix + p_min must sum to 1, got {sum.ToString("0.######", CultureInfo.InvariantCulture)}");
        }

        var modes = TrainingVocabulary.Modes.ToDictionary(kv => kv.Key, kv => map.Choice(kv.Key, kv.Value) ?? kv.Value[0], StringComparer.Ordinal);
        if (hp["p_min"] != 0 && modes["positives"] == "reference")
        {
            map.TryNode("p_min", out var n);
            throw map.Error(n, "p_min", "positives: reference has no lowest-similarity positive; p_min must be 0");
        }

        var hyperparameters = Format(hp);
        foreach (var (mode, value) in modes.Where(kv => kv.Value != TrainingVocabulary.Modes[kv.Key][0]))
        {
            hyperparameters[mode] = value;   // non-default modes travel with each trial
        }

        var training = new TrainingDefinition(
            map.Int("epochs", 1, 100_000) ?? 4,
            Sorted(hyperparameters),
            Sorted(modes),
            map.Int("probe_steps", 1, 100_000) ?? 60,
            map.Double("probe_lr") ?? 0.05,
            Enum.Parse<TrainingDevice>(map.Choice("device", "auto", "cpu", "cuda") ?? "auto", ignoreCase: true),
            ReadAugment(map.Map("augment")),
            map.Int("max_attempts", 1, 100) ?? TrainingDefinition.DefaultMaxAttempts);
        map.EnsureNoUnknownKeys();
        return training;
    }

    private static AugmentOptions ReadAugment(YamlMap? map)
    {
        if (map is null)
        {
            return new AugmentOptions();
        }

        double Probability(string key, double fallback, double max = 1)
        {
            var v = map.Double(key) ?? fallback;
            if (v < 0 || v > max)
            {
                map.TryNode(key, out var n);
                throw map.Error(n, key, $"must be in [0, {max.ToString(CultureInfo.InvariantCulture)}], got {v.ToString(CultureInfo.InvariantCulture)}");
            }

            return v;
        }

        var defaults = new AugmentOptions();
        var kernel = map.Int("blur_kernel", 0, 31) ?? defaults.BlurKernel;
        if (kernel % 2 == 0 && kernel != 0)
        {
            map.TryNode("blur_kernel", out var n);
            throw map.Error(n, "blur_kernel", $"must be 0 (no blur) or odd, got {kernel}");
        }

        var sigma = map.List("blur_sigma")?.Select(n => map.ParseDouble(n, "blur_sigma")).ToArray() ?? [defaults.BlurSigmaMin, defaults.BlurSigmaMax];
        if (sigma.Length != 2 || sigma[0] <= 0 || sigma[1] < sigma[0])
        {
            map.TryNode("blur_sigma", out var n);
            throw map.Error(n, "blur_sigma", "must be [min, max] with 0 < min <= max");
        }

        var options = new AugmentOptions
        {
            Mode = Enum.Parse<AugmentMode>(map.Choice("mode", "enhance", "basic", "none") ?? "enhance", ignoreCase: true),
            Flip = Probability("flip", defaults.Flip),
            Jitter = Probability("jitter", defaults.Jitter),
            Brightness = Probability("brightness", defaults.Brightness),
            Contrast = Probability("contrast", defaults.Contrast),
            Saturation = Probability("saturation", defaults.Saturation),
            Hue = Probability("hue", defaults.Hue, 0.5),
            Grayscale = Probability("grayscale", defaults.Grayscale),
            BlurKernel = kernel,
            BlurSigmaMin = sigma[0],
            BlurSigmaMax = sigma[1],
        };
        map.EnsureNoUnknownKeys();
        return options;
    }

    private static void CheckHyperparameter(YamlMap map, YamlNode node, string key, double value)
    {
        if (TrainingVocabulary.Problem(key, value) is { } problem)
        {
            throw map.Error(node, key, $"{problem}, got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static Dictionary<string, string> Format(Dictionary<string, double> hp) =>
        Sorted(hp.ToDictionary(kv => kv.Key, kv => kv.Value.ToString("R", CultureInfo.InvariantCulture), StringComparer.Ordinal));

    /// <summary>In key order (ordinal), so a definition's maps read the same in the journal and in checkpoint headers whatever the YAML's order.</summary>
    private static Dictionary<string, string> Sorted(Dictionary<string, string> map) =>
        map.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
}
