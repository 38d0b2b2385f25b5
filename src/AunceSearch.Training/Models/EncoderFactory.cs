namespace AunceSearch.Training.Models;

/// <summary>Encoder architecture and size.</summary>
public sealed record ModelOptions
{
    public string Encoder { get; init; } = "small-cnn";

    public int Width { get; init; } = 16;

    public int FeatureDim { get; init; } = 32;
}

/// <summary>Builds encoders by name.</summary>
public static class EncoderFactory
{
    public static SmallCnnEncoder Create(ModelOptions options, int auCount) => options.Encoder switch
    {
        "small-cnn" => new SmallCnnEncoder(auCount, options.Width, options.FeatureDim),
        _ => throw new ArgumentException($"unknown encoder '{options.Encoder}' (available: small-cnn)", nameof(options)),
    };
}
