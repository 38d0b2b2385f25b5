namespace AunceSearch.Model;

/// <summary>
/// The encoder, as the spec's <c>model:</c> names it, the wire carries it and the trainer builds it: everything needed to
/// rebuild the same module (checkpoints store it).
/// </summary>
public sealed record ModelOptions
{
    /// <summary>The encoders the trainer builds.</summary>
    public static readonly string[] Encoders = ["small-cnn", "resnet18", "resnet34", "resnet50", "resnet101", "swin-t", "swin-s", "swin-b"];

    /// <summary>One of <see cref="Encoders"/>.</summary>
    public string Encoder { get; init; } = "small-cnn";

    /// <summary>small-cnn: channels of the first block (default 16); ResNet: stem/stage-1 channels (0 = torchvision's 64).</summary>
    public int Width { get; init; }

    /// <summary>The per-AU feature size D (the reference: 1024).</summary>
    public int FeatureDim { get; init; } = 32;

    /// <summary>ANFL: K nearest AUs in the feature graph (the reference: 4).</summary>
    public int Neighbors { get; init; } = 4;

    /// <summary>Swin overrides (null = the named model's): embedding width, blocks and heads per stage, window, stochastic depth.</summary>
    public int? EmbedDim { get; init; }

    public int[]? Depths { get; init; }

    public int[]? Heads { get; init; }

    public int? Window { get; init; }

    public double? DropPath { get; init; }

    /// <summary>Side of the square images the encoder sees (Swin's windows depend on it); the trainer sets it from the crop.</summary>
    public int InputSize { get; init; } = 224;

    /// <summary>A safetensors file with backbone weights (torchvision/timm/original-Swin names), absolute; null = random init.</summary>
    public string? Pretrained { get; init; }
}
