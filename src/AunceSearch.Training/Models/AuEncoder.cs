using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AunceSearch.Training.Models;

/// <summary>
/// The AUNCE encoder (aunce-reference §5): a backbone (ResNet or Swin) producing tokens, <c>global_linear</c> (a
/// LinearBlock to the feature size D), the ANFL head (<c>head</c>), and an L2 normalisation of each AU's vector.
/// Output (B, C, D) unit vectors. Submodule names — <c>backbone.*</c>, <c>global_linear.*</c>, <c>head.*</c> — are the
/// reference's, so its checkpoints' tensor names map one to one.
/// </summary>
public sealed class AuEncoder : torch.nn.Module<Tensor, Tensor>
{
    private readonly torch.nn.Module<Tensor, Tensor> backbone;
    private readonly LinearBlock global_linear;
    private readonly AnflHead head;

    public AuEncoder(torch.nn.Module<Tensor, Tensor> backbone, int backboneChannels, int auCount, int featureDim, int neighbors) : base("AuEncoder")
    {
        this.backbone = backbone;
        global_linear = new LinearBlock(backboneChannels, featureDim);
        head = new AnflHead(featureDim, auCount, neighbors);
        AuCount = auCount;
        FeatureDim = featureDim;
        RegisterComponents();
    }

    public int AuCount { get; }

    public int FeatureDim { get; }

    /// <summary>The backbone, e.g. to load pretrained weights into it.</summary>
    public torch.nn.Module<Tensor, Tensor> Backbone => backbone;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var tokens = global_linear.forward(backbone.forward(input));   // (B, L, D)
        return F.normalize(head.forward(tokens), p: 2, dim: -1, eps: 1e-12).MoveToOuterDisposeScope();
    }
}
