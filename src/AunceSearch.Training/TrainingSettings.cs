using System.Globalization;
using AunceSearch.Training.Loss;

namespace AunceSearch.Training;

/// <summary>
/// One trial's training settings, read from its hyperparameter map (numbers and the named modes below) so that a
/// checkpoint's header records exactly what trained it. Every value is checked; the message names the key.
/// </summary>
public sealed record TrainingSettings
{
    /// <summary>The named (non-numeric) settings with their allowed values; the first is the default.</summary>
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

    public static TrainingSettings From(IReadOnlyDictionary<string, string> h)
    {
        double D(string k, double d)
        {
            if (!h.TryGetValue(k, out var s))
            {
                return d;
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

        var batch = D("batch_size", 32);
        if (batch < 2 || batch != Math.Floor(batch))
        {
            throw new ArgumentException($"batch_size must be an integer >= 2, got {batch}");
        }

        var lr = D("lr", 1e-3);
        var wd = D("weight_decay", 1e-6);
        if (lr <= 0 || wd < 0)
        {
            throw new ArgumentException($"lr must be > 0 and weight_decay >= 0, got {lr} and {wd}");
        }

        var loss = new AunceLossOptions
        {
            Temperature = D("temperature", 0.5),
            LambdaMin = D("lambda_min", 1.2),
            LambdaMaj = D("lambda_maj", 0.8),
            PMax = D("p_max", 0.2),
            PAug = D("p_aug", 0.2),
            PMix = D("p_mix", 0.6),
            PMin = D("p_min", 0),
            Positives = M("positives") == "paper" ? PositiveMode.Paper : PositiveMode.Reference,
            LambdaAssignment = M("lambda_assignment") == "frequency" ? LambdaAssignment.Frequency : LambdaAssignment.Label,
            UseAuWeight = M("au_weight") == "on",
        };
        loss.Validate();
        return new TrainingSettings
        {
            Lr = lr,
            WeightDecay = wd,
            BatchSize = (int)batch,
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
