using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AunceSearch.Training.Models;

/// <summary>
/// The reference's WCE baseline classifier (<c>Linear_Net</c>, aunce-reference §3.1): per AU Linear(D, 32) → Linear(32, 2)
/// with no activation between, on that AU's unit feature; softmax over the two logits, index 0 = P(active). Vectorised
/// over AUs as batched matrix products; parameter names <c>fc1_weight</c> (C, D, 32) etc.
/// </summary>
public sealed class WceClassifier : torch.nn.Module<Tensor, Tensor>
{
    private readonly Parameter fc1_weight;
    private readonly Parameter fc1_bias;
    private readonly Parameter fc2_weight;
    private readonly Parameter fc2_bias;

    public WceClassifier(int auCount, int featureDim, int hidden = 32) : base("WceClassifier")
    {
        // PyTorch's Linear initialisation: U(−1/√fan_in, 1/√fan_in) for weights and biases.
        var b1 = 1 / Math.Sqrt(featureDim);
        var b2 = 1 / Math.Sqrt(hidden);
        fc1_weight = new Parameter(torch.rand(auCount, featureDim, hidden).mul_(2 * b1).sub_(b1));
        fc1_bias = new Parameter(torch.rand(auCount, 1, hidden).mul_(2 * b1).sub_(b1));
        fc2_weight = new Parameter(torch.rand(auCount, hidden, 2).mul_(2 * b2).sub_(b2));
        fc2_bias = new Parameter(torch.rand(auCount, 1, 2).mul_(2 * b2).sub_(b2));
        RegisterComponents();
    }

    /// <summary>(B, C, D) AU features → (B, 2, C) per-AU class probabilities.</summary>
    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        var x = z.permute(1, 0, 2);                                      // (C, B, D)
        var h = x.bmm(fc1_weight).add(fc1_bias).bmm(fc2_weight).add(fc2_bias);   // (C, B, 2)
        return h.permute(1, 2, 0).softmax(1).MoveToOuterDisposeScope();
    }
}
