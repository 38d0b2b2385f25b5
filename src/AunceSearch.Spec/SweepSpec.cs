using System.Collections.Immutable;
using AunceSearch.Contracts;
using AunceSearch.Model;
using AunceSearch.Search;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Spec;

/// <summary>A validated sweep specification (the YAML format is documented in README.md).</summary>
public sealed record SweepSpec
{
    public required string Name { get; init; }

    public ulong Seed { get; init; }

    public required DatasetSpec Dataset { get; init; }

    public required ModelSpec Model { get; init; }

    public required TrainingSpec Training { get; init; }

    public required SearchSpec Search { get; init; }

    /// <summary>Which checkpoints the sweep keeps (<c>checkpoints:</c>).</summary>
    public Contracts.CheckpointRetention Retention { get; init; } = Contracts.CheckpointRetention.Default;

    /// <summary>The fixed hyperparameters merged with one sampled configuration.</summary>
    public ImmutableSortedDictionary<string, string> Resolve(IReadOnlyDictionary<string, string> sampled)
    {
        var merged = Training.Hyperparameters.ToBuilder();
        foreach (var (k, v) in sampled)
        {
            merged[k] = v;
        }

        return merged.ToImmutable();
    }
}

/// <summary>Where the images and labels are.</summary>
public sealed record DatasetSpec
{
    public static readonly string[] Formats = ["aunce-list", "table"];

    public static readonly string[] Splits = ["lists", "bp4d", "disfa", "parts", "subjects"];

    /// <summary>"aunce-list": the AUNCE list-file layout (BP4D/DISFA) under <see cref="Root"/>; "table": one label table with a header.</summary>
    public string Format { get; init; } = "aunce-list";

    /// <summary>table: the label table, relative to <see cref="Root"/> (or absolute).</summary>
    public string Labels { get; init; } = "labels.csv";

    /// <summary>table: the folder image paths are relative to, relative to the root.</summary>
    public string Images { get; init; } = "";

    /// <summary>One of <see cref="Splits"/>: the layout's list files, the published BP4D/DISFA parts, <see cref="Parts"/>, or round-robin subjects.</summary>
    public string Split { get; init; } = "lists";

    /// <summary>split: parts — subject ids per part.</summary>
    public ImmutableArray<ImmutableArray<string>> Parts { get; init; } = [];

    /// <summary>split: subjects — how many parts.</summary>
    public int SplitFolds { get; init; } = 3;

    /// <summary>split: lists of a table — per-fold list files, with {split} and {fold}, relative to the root.</summary>
    public string? FoldLists { get; init; }

    /// <summary>Network input side: random crops in training, centre crops in evaluation; 0 = image_size·7/8.</summary>
    public int CropSize { get; init; }

    /// <summary>Skip and count missing/corrupt images and malformed label rows instead of failing.</summary>
    public bool SkipBad { get; init; }

    /// <summary>"auto", "memory" or "stream".</summary>
    public string Cache { get; init; } = "auto";

    public int Workers { get; init; }

    public int Prefetch { get; init; } = 4;

    /// <summary>Absolute dataset root (relative paths in the YAML are resolved against the spec file's folder).</summary>
    public required string Root { get; init; }

    /// <summary>The list-file prefix: <c>list/&lt;Name&gt;_{train,test}_{img_path,label}_fold&lt;f&gt;.txt</c>.</summary>
    public required string ListName { get; init; }

    public required ImmutableArray<int> Folds { get; init; }

    /// <summary>AU names (column order of the label files); null = read from the dataset's au-names file.</summary>
    public ImmutableArray<string>? Aus { get; init; }

    /// <summary>Images are resized to this square size before augmentation.</summary>
    public int ImageSize { get; init; } = 48;

    /// <summary>When set and the dataset is missing, the synthetic generator creates it.</summary>
    public SyntheticSpec? Synthetic { get; init; }
}

/// <summary>Parameters of the synthetic AU-face generator.</summary>
public sealed record SyntheticSpec
{
    public int Subjects { get; init; } = 12;

    public int ImagesPerSubject { get; init; } = 40;

    public int ImageSize { get; init; } = 64;

    public double LabelNoise { get; init; } = 0.05;

    /// <summary>Per-AU occurrence rates (BP4D's by default).</summary>
    public ImmutableArray<double> OccurrenceRates { get; init; } = SpecDefaults.Bp4dOccurrence;

    public int Folds { get; init; } = 3;

    public int Seed { get; init; } = 1;
}

/// <summary>The encoder.</summary>
public sealed record ModelSpec
{
    /// <summary>The encoders the trainer builds.</summary>
    public static readonly string[] Encoders = ["small-cnn", "resnet18", "resnet34", "resnet50", "resnet101", "swin-t", "swin-s", "swin-b"];

    public string Encoder { get; init; } = "small-cnn";

    /// <summary>small-cnn: first-block channels (16); ResNet: stem channels (64); 0 = the encoder's default.</summary>
    public int Width { get; init; }

    public int FeatureDim { get; init; } = 32;

    /// <summary>ANFL: K nearest AUs (the reference: 4).</summary>
    public int Neighbors { get; init; } = 4;

    /// <summary>Swin overrides (null = the named model's sizes).</summary>
    public int? EmbedDim { get; init; }

    public ImmutableArray<int>? Depths { get; init; }

    public ImmutableArray<int>? Heads { get; init; }

    public int? Window { get; init; }

    public double? DropPath { get; init; }

    /// <summary>Absolute path of a safetensors file with backbone weights, or null.</summary>
    public string? Pretrained { get; init; }
}

/// <summary>Training settings shared by all trials, and the fixed hyperparameter values.</summary>
public sealed record TrainingSpec
{
    public int Epochs { get; init; } = 4;

    /// <summary>"reference" (the AUNCE reference code's positives) or "paper" (the paper's intent).</summary>
    public string Positives { get; init; } = "reference";

    /// <summary>The named training modes (positives, lambda_assignment, au_weight, objective, probe_encoder, balance, amp, channels_last, optimizer).</summary>
    public ImmutableSortedDictionary<string, string> Modes { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    public int ProbeSteps { get; init; } = 60;

    /// <summary>
    /// Attempts a fold gets when its training fails on its own (diverged, out of memory, a libtorch error, bad data), each
    /// from the fold's latest stored checkpoint, before its trial fails. Lost silos and drains never count.
    /// </summary>
    public int MaxAttempts { get; init; } = TrainingDefinition.DefaultMaxAttempts;

    public AugmentSpec Augment { get; init; } = new();

    public double ProbeLr { get; init; } = 0.05;

    /// <summary>"auto", "cpu" or "cuda".</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Fixed values of every known hyperparameter; the search space overrides them per trial.</summary>
    public required ImmutableSortedDictionary<string, string> Hyperparameters { get; init; }
}

/// <summary>The training transform (aunce-reference §4.2); defaults are the reference's <c>image_train_enhance</c>.</summary>
public sealed record AugmentSpec
{
    public string Mode { get; init; } = "enhance";

    public double Flip { get; init; } = 0.5;

    public double Jitter { get; init; } = 0.8;

    public double Brightness { get; init; } = 0.4;

    public double Contrast { get; init; } = 0.4;

    public double Saturation { get; init; } = 0.4;

    public double Hue { get; init; } = 0.1;

    public double Grayscale { get; init; } = 0.2;

    public int BlurKernel { get; init; } = 3;

    public double BlurSigmaMin { get; init; } = 0.1;

    public double BlurSigmaMax { get; init; } = 2.0;
}

/// <summary>How configurations are proposed and pruned.</summary>
public sealed record SearchSpec
{
    public int Trials { get; init; } = 8;

    public int MaxConcurrentTrials { get; init; } = 1;

    /// <summary>"tpe" (default), "random", "sobol" or "grid".</summary>
    public string Sampler { get; init; } = "tpe";

    /// <summary>TPE settings (Optuna's defaults; multivariate and constant liar on, as in Optuna 5).</summary>
    public TpeOptions Tpe { get; init; } = new() { Multivariate = true, ConstantLiar = true };

    /// <summary>Grid sampler: points per real range (and simplex lattice steps + 1).</summary>
    public int GridPoints { get; init; } = 3;

    /// <summary>Warm start: configurations for the first trials (parameters they leave out are sampled).</summary>
    public ImmutableArray<ImmutableSortedDictionary<string, string>> Enqueued { get; init; } = [];

    /// <summary>Warm start: results of earlier sweeps that samplers learn from (complete observations).</summary>
    public ImmutableArray<(ImmutableSortedDictionary<string, string> Config, double Value)> SeedResults { get; init; } = [];

    public required SearchSpace Space { get; init; }

    public required SchedulerSpec Scheduler { get; init; }

    /// <summary>"f1" (mean per-AU F1) or "accuracy".</summary>
    public string Metric { get; init; } = "f1";

    /// <summary>What multi-objective ASHA can rank by: fold means of F1, accuracy, seconds per epoch, training loss.</summary>
    public static readonly string[] ObjectiveNames = ["f1", "accuracy", "seconds", "loss"];

    public Direction Mode { get; init; } = Direction.Maximize;
}

/// <summary>Which trial scheduler prunes or promotes, with its parameters (defaults: promotion ASHA, r = 1, η = 2).</summary>
public sealed record SchedulerSpec
{
    public static readonly string[] Kinds = ["asha", "successive_halving", "hyperband", "hyperband_sync", "median", "percentile", "median_stopping", "pbt", "none"];

    /// <summary>One of <see cref="Kinds"/>.</summary>
    public string Kind { get; init; } = "asha";

    /// <summary>ASHA: "promotion" (the paper's: pause at rungs, promote when capacity frees) or "stopping" (Ray's).</summary>
    public string Variant { get; init; } = "promotion";

    /// <summary>Minimum resource r (epochs) of the first rung (ASHA's grace_period, Optuna's min_resource).</summary>
    public int GracePeriod { get; init; } = 1;

    public int ReductionFactor { get; init; } = 2;

    public SmallRungPolicy SmallRungPolicy { get; init; } = SmallRungPolicy.Ray;

    public int MinEarlyStoppingRate { get; init; }

    public int BootstrapCount { get; init; }

    public double Percentile { get; init; } = 25.0;

    public int StartupTrials { get; init; } = 5;

    public int WarmupSteps { get; init; }

    public int IntervalSteps { get; init; } = 1;

    public int MinTrials { get; init; } = 1;

    /// <summary>Vizier median stopping: completed trials needed before it applies.</summary>
    public int MinSamples { get; init; } = 3;

    /// <summary>Multi-objective ASHA: objective names (f1, accuracy, seconds, loss) and directions; empty = single objective.</summary>
    public ImmutableArray<(string Name, Direction Direction)> Objectives { get; init; } = [];

    /// <summary>PBT options (kind: pbt).</summary>
    public PbtOptions Pbt { get; init; } = new();

    /// <summary>Stop a trial on partial folds when even an optimistic fold mean would be stopped (<c>PartialFoldPruning</c>).</summary>
    public bool PartialFolds { get; init; }
}

/// <summary>Names and defaults of the hyperparameters the trainer understands.</summary>
public static class SpecDefaults
{
    /// <summary>The named training modes (<see cref="TrainingVocabulary.Modes"/>: the trainer reads the same table).</summary>
    public static IReadOnlyDictionary<string, string[]> TrainingModes => TrainingVocabulary.Modes;

    public static readonly ImmutableArray<double> Bp4dOccurrence =
        [0.211, 0.171, 0.203, 0.462, 0.549, 0.594, 0.562, 0.466, 0.169, 0.344, 0.165, 0.152];

    public static readonly ImmutableArray<string> Bp4dAus =
        ["AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU14", "AU15", "AU17", "AU23", "AU24"];

    /// <summary>The positive-pair probabilities (a simplex).</summary>
    public static ImmutableArray<string> Probabilities => TrainingVocabulary.Probabilities;

    /// <summary>Every hyperparameter with its default (<see cref="TrainingVocabulary.Hyperparameters"/>).</summary>
    public static ImmutableSortedDictionary<string, double> Hyperparameters => TrainingVocabulary.Hyperparameters;
}
