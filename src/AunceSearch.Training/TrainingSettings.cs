using System.Globalization;
using AunceSearch.Model;
using AunceSearch.Training.Loss;

namespace AunceSearch.Training;

/// <summary>
/// One trial's training settings, read from its hyperparameter map (numbers and the named modes below) so that a
/// checkpoint's header records exactly what trained it. Every value is checked; the message names the key.
/// </summary>
public sealed record TrainingSettings
{
    /// <summary>The named (non-numeric) settings with their allowed values; the first is the default (<see cref="TrainingVocabulary.Modes"/>).</summary>
    public static IReadOnlyDictionary<string, string[]> Modes => TrainingVocabulary.Modes;

    public double Lr { get; init; } = 1e-3;

    public double WeightDecay { get; init; } = 1e-6;

    public int BatchSize { get; init; } = 32;

    public required AunceLossOptions Loss { get; init; }

    /// <summary>"aunce" (contrastive encoder + linear probe) or "wce" (the reference's WCE-trained baseline network).</summary>
    public string Objective { get; init; } = "aunce";

    /// <summary>Linear probe on features from the encoder in eval mode (default) or in train mode (the reference's quirk).</summary>
    public bool ProbeEncoderTrainMode { get; init; }

    /// <summary>
    /// <c>balance: class</c> (default): the AU predictor — the linear probe, or the WCE network's classifier — weights each AU's
    /// active and inactive examples by their inverse training frequency; <c>au</c>: the reference's per-AU weights w_i only.
    /// </summary>
    public bool ClassBalanced { get; init; } = true;

    public bool Bf16Autocast { get; init; }

    public bool ChannelsLast { get; init; }

    /// <summary>The flat multi-tensor AdamW (default) or TorchSharp's per-parameter AdamW.</summary>
    public bool FlatOptimizer { get; init; } = true;

    /// <summary>Every numeric hyperparameter of <see cref="TrainingVocabulary.Hyperparameters"/>, checked against its bounds (the trial's value or the default).</summary>
    public IReadOnlyDictionary<string, double> Numbers { get; init; } = TrainingVocabulary.Hyperparameters;

    /// <summary>
    /// A numeric hyperparameter by its vocabulary name: how the trainer reads a setting that needs no typed property of its
    /// own, so adding one is the vocabulary's table plus the code that uses it.
    /// </summary>
    public double Number(string key) => Numbers.TryGetValue(key, out var v) ? v
        : throw new ArgumentException($"'{key}' is not a hyperparameter of the vocabulary (known: {string.Join(", ", TrainingVocabulary.Hyperparameters.Keys)})", nameof(key));

    public static TrainingSettings From(IReadOnlyDictionary<string, string> h)
    {
        double D(string k)
        {
            if (!h.TryGetValue(k, out var s))
            {
                return TrainingVocabulary.Hyperparameters[k];
            }

            return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
                ? v
                : throw new ArgumentException($"hyperparameter {k}: '{s}' is not a number");
        }

        string M(string k)
        {
            var allowed = Modes[k];
            if (!h.TryGetValue(k, out var s))
            {
                return allowed[0];
            }

            return allowed.Contains(s) ? s : throw new ArgumentException($"{k}: '{s}' is not one of {string.Join(", ", allowed)}");
        }

        // Every number against the vocabulary's bounds (the table the spec loader checks too), before anything uses one.
        var numbers = TrainingVocabulary.Hyperparameters.Keys.ToDictionary(k => k, D, StringComparer.Ordinal);
        foreach (var (key, value) in numbers)
        {
            if (TrainingVocabulary.Problem(key, value) is { } problem)
            {
                throw new ArgumentException($"hyperparameter {key}: {problem}, got {value.ToString(CultureInfo.InvariantCulture)}");
            }
        }

        var loss = new AunceLossOptions
        {
            Temperature = D("temperature"),
            LambdaMin = D("lambda_min"),
            LambdaMaj = D("lambda_maj"),
            PMax = D("p_max"),
            PAug = D("p_aug"),
            PMix = D("p_mix"),
            PMin = D("p_min"),
            Positives = M("positives") == "paper" ? PositiveMode.Paper : PositiveMode.Reference,
            LambdaAssignment = M("lambda_assignment") == "frequency" ? LambdaAssignment.Frequency : LambdaAssignment.Label,
            UseAuWeight = M("au_weight") == "on",
        };
        loss.Validate();
        return new TrainingSettings
        {
            Numbers = numbers,
            Lr = numbers["lr"],
            WeightDecay = numbers["weight_decay"],
            BatchSize = (int)numbers["batch_size"],
            Loss = loss,
            Objective = M("objective"),
            ProbeEncoderTrainMode = M("probe_encoder") == "train",
            ClassBalanced = M("balance") == "class",
            Bf16Autocast = M("amp") == "bf16",
            ChannelsLast = M("channels_last") == "on",
            FlatOptimizer = M("optimizer") == "flat-adamw",
        };
    }
}
