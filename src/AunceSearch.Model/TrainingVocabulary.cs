using System.Collections.Immutable;

namespace AunceSearch.Model;

/// <summary>
/// The trainer's hyperparameters and named training modes, with their defaults: the one table the spec loader checks a
/// YAML against and the trainer reads a trial's configuration with.
/// </summary>
public static class TrainingVocabulary
{
    /// <summary>The named (non-numeric) training modes and their allowed values; the first is the default.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Modes = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["positives"] = ["reference", "paper"],
        ["lambda_assignment"] = ["label", "frequency"],
        ["au_weight"] = ["off", "on"],
        ["objective"] = ["aunce", "wce"],
        ["probe_encoder"] = ["eval", "train"],
        ["balance"] = ["class", "au"],
        ["amp"] = ["off", "bf16"],
        ["channels_last"] = ["off", "on"],
        ["optimizer"] = ["flat-adamw", "adamw"],
    };

    /// <summary>Every numeric hyperparameter with its default (AUNCE reference values where they exist).</summary>
    public static readonly ImmutableSortedDictionary<string, double> Hyperparameters = new Dictionary<string, double>
    {
        ["lr"] = 1e-3,
        ["weight_decay"] = 1e-6,
        ["batch_size"] = 32,
        ["temperature"] = 0.5,
        ["lambda_min"] = 1.2,
        ["lambda_maj"] = 0.8,
        ["p_max"] = 0.2,
        ["p_aug"] = 0.2,
        ["p_mix"] = 0.6,
        ["p_min"] = 0.0,
        ["grad_clip"] = 0.0,
    }.ToImmutableSortedDictionary(StringComparer.Ordinal);

    /// <summary>Each hyperparameter's default as a configuration holds it (invariant, round-trippable): what a configuration that leaves it out means.</summary>
    public static readonly ImmutableSortedDictionary<string, string> DefaultTexts =
        Hyperparameters.ToImmutableSortedDictionary(kv => kv.Key, kv => kv.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture), StringComparer.Ordinal);

    /// <summary>The positive-pair probabilities (a simplex).</summary>
    public static readonly ImmutableArray<string> Probabilities = ["p_max", "p_aug", "p_mix", "p_min"];

    /// <summary>What is wrong with <paramref name="value"/> for hyperparameter <paramref name="key"/> (the spec loader and the trainer both ask), or null.</summary>
    public static string? Problem(string key, double value) => key switch
    {
        _ when !double.IsFinite(value) => "must be a finite number",
        "lr" when value <= 0 => "must be > 0",
        "weight_decay" when value < 0 => "must be >= 0",
        "batch_size" when value < 2 || value != Math.Floor(value) => "must be an integer >= 2",
        "temperature" when value <= 0 => "must be > 0",
        "lambda_min" or "lambda_maj" when value < 0 => "must be >= 0",
        "p_max" or "p_aug" or "p_mix" or "p_min" when value is < 0 or > 1 => "must be in [0, 1]",
        "grad_clip" when value < 0 => "must be >= 0 (the largest global gradient norm a step may take; 0: no clipping)",
        _ => null,
    };
}
