using System.Collections.Immutable;
using System.Globalization;
using AunceSearch.Contracts;
using YamlDotNet.RepresentationModel;

namespace AunceSearch.Spec;

/// <summary>The spec loader: the <c>training:</c> section and its augmentation.</summary>
public static partial class SweepSpecLoader
{
    private static TrainingSpec ReadTraining(YamlMap? map)
    {
        var hp = SpecDefaults.Hyperparameters.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        if (map is null)
        {
            return new TrainingSpec { Hyperparameters = Format(hp) };
        }

        foreach (var key in SpecDefaults.Hyperparameters.Keys)
        {
            if (map.TryNode(key, out var node))
            {
                hp[key] = map.ParseDouble(node, key);
                CheckHyperparameter(map, node, key, hp[key]);
            }
        }

        var sum = SpecDefaults.Probabilities.Sum(p => hp[p]);
        if (Math.Abs(sum - 1.0) > 1e-6)
        {
            throw map.Error($"the positive-pair probabilities p_max + p_aug + p_mix + p_min must sum to 1, got {sum.ToString("0.######", CultureInfo.InvariantCulture)}");
        }

        var spec = new TrainingSpec
        {
            Epochs = map.Int("epochs", 1, 100_000) ?? 4,
            Positives = map.Choice("positives", "reference", "paper") ?? "reference",
            Modes = SpecDefaults.TrainingModes.ToImmutableSortedDictionary(kv => kv.Key, kv => map.Choice(kv.Key, kv.Value) ?? kv.Value[0], StringComparer.Ordinal),
            ProbeSteps = map.Int("probe_steps", 1, 100_000) ?? 60,
            MaxAttempts = map.Int("max_attempts", 1, 100) ?? TrainingDefinition.DefaultMaxAttempts,
            Augment = ReadAugment(map.Map("augment")),
            ProbeLr = map.Double("probe_lr") ?? 0.05,
            Device = map.Choice("device", "auto", "cpu", "cuda") ?? "auto",
            Hyperparameters = Format(hp),
        };
        spec = spec with { Hyperparameters = spec.Hyperparameters.SetItems(spec.Modes.Where(kv => kv.Value != SpecDefaults.TrainingModes[kv.Key][0])) };   // non-default modes travel with each trial
        if (hp["p_min"] != 0 && spec.Positives == "reference")
        {
            map.TryNode("p_min", out var n);
            throw map.Error(n, "p_min", "positives: reference has no lowest-similarity positive; p_min must be 0");
        }

        map.EnsureNoUnknownKeys();
        return spec;
    }

    private static AugmentSpec ReadAugment(YamlMap? map)
    {
        if (map is null)
        {
            return new AugmentSpec();
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

        var kernel = map.Int("blur_kernel", 0, 31) ?? 3;
        if (kernel % 2 == 0 && kernel != 0)
        {
            map.TryNode("blur_kernel", out var n);
            throw map.Error(n, "blur_kernel", $"must be 0 (no blur) or odd, got {kernel}");
        }

        var sigma = map.List("blur_sigma")?.Select(n => map.ParseDouble(n, "blur_sigma")).ToArray() ?? [0.1, 2.0];
        if (sigma.Length != 2 || sigma[0] <= 0 || sigma[1] < sigma[0])
        {
            map.TryNode("blur_sigma", out var n);
            throw map.Error(n, "blur_sigma", "must be [min, max] with 0 < min <= max");
        }

        var spec = new AugmentSpec
        {
            Mode = map.Choice("mode", "enhance", "basic", "none") ?? "enhance",
            Flip = Probability("flip", 0.5),
            Jitter = Probability("jitter", 0.8),
            Brightness = Probability("brightness", 0.4),
            Contrast = Probability("contrast", 0.4),
            Saturation = Probability("saturation", 0.4),
            Hue = Probability("hue", 0.1, 0.5),
            Grayscale = Probability("grayscale", 0.2),
            BlurKernel = kernel,
            BlurSigmaMin = sigma[0],
            BlurSigmaMax = sigma[1],
        };
        map.EnsureNoUnknownKeys();
        return spec;
    }

    private static void CheckHyperparameter(YamlMap map, YamlNode node, string key, double value)
    {
        var problem = key switch
        {
            "lr" when value <= 0 => "must be > 0",
            "weight_decay" when value < 0 => "must be >= 0",
            "batch_size" when value < 2 || value != Math.Floor(value) => "must be an integer >= 2",
            "temperature" when value <= 0 => "must be > 0",
            "lambda_min" or "lambda_maj" when value < 0 => "must be >= 0",
            "p_max" or "p_aug" or "p_mix" or "p_min" when value is < 0 or > 1 => "must be in [0, 1]",
            _ => null,
        };
        if (problem is not null)
        {
            throw map.Error(node, key, $"{problem}, got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static ImmutableSortedDictionary<string, string> Format(Dictionary<string, double> hp) =>
        hp.ToImmutableSortedDictionary(kv => kv.Key, kv => kv.Value.ToString("R", CultureInfo.InvariantCulture), StringComparer.Ordinal);
}
