using AunceSearch.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Models;

/// <summary>Builds encoders by name.</summary>
public static class EncoderFactory
{
    public static readonly string[] Names = ModelOptions.Encoders;

    /// <summary>Builds the encoder; output (B, C, D) unit vectors. Pretrained weights are not loaded here (see <see cref="SafeTensors"/>).</summary>
    public static torch.nn.Module<Tensor, Tensor> Create(ModelOptions options, int auCount)
    {
        var width = options.Width > 0 ? options.Width : 64;
        return options.Encoder switch
        {
            "small-cnn" => new SmallCnnEncoder(auCount, options.Width > 0 ? options.Width : 16, options.FeatureDim),
            "resnet18" => WithHead(ResNetBackbone.ResNet18(width)),
            "resnet34" => WithHead(ResNetBackbone.ResNet34(width)),
            "resnet50" => WithHead(ResNetBackbone.ResNet50(width)),
            "resnet101" => WithHead(ResNetBackbone.ResNet101(width)),
            "swin-t" => WithHead(new SwinBackbone(Swin(options, SwinOptions.Tiny), options.InputSize)),
            "swin-s" => WithHead(new SwinBackbone(Swin(options, SwinOptions.Tiny with { Depths = [2, 2, 18, 2], DropPath = 0.3 }), options.InputSize)),
            "swin-b" => WithHead(new SwinBackbone(Swin(options, SwinOptions.Base), options.InputSize)),
            _ => throw new ArgumentException($"unknown encoder '{options.Encoder}' (available: {string.Join(", ", Names)})", nameof(options)),
        };

        AuEncoder WithHead<T>(T backbone) where T : torch.nn.Module<Tensor, Tensor>, IBackbone =>
            new(backbone, backbone.OutputChannels, auCount, options.FeatureDim, Math.Min(options.Neighbors, auCount));
    }

    /// <summary>Sets the generator that stochastic depth draws from (Swin), so training is reproducible.</summary>
    public static void SetGenerator(torch.nn.Module<Tensor, Tensor> encoder, Generator? generator)
    {
        if (encoder is AuEncoder { Backbone: SwinBackbone swin })
        {
            swin.Generator = generator;
        }
    }

    private static SwinOptions Swin(ModelOptions o, SwinOptions named) => named with
    {
        EmbedDim = o.EmbedDim ?? named.EmbedDim,
        Depths = o.Depths ?? named.Depths,
        Heads = o.Heads ?? named.Heads,
        Window = o.Window ?? named.Window,
        DropPath = o.DropPath ?? named.DropPath,
    };
}
