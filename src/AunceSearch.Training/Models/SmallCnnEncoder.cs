using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace AunceSearch.Training.Models;

/// <summary>
/// A small convolutional AU encoder: three conv blocks, a 3×3 spatial pooling that keeps coarse face regions
/// apart (brows, eyes, mouth), and a per-AU projection; outputs one unit vector per AU, shape (B, C, D).
/// Field names are the checkpoint keys: never rename them.
/// </summary>
public sealed class SmallCnnEncoder : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Linear hidden;
    private readonly Linear heads;
    private readonly int _auCount;
    private readonly int _featureDim;

    public SmallCnnEncoder(int auCount, int width, int featureDim) : base(nameof(SmallCnnEncoder))
    {
        _auCount = auCount;
        _featureDim = featureDim;
        features = Sequential(
            ("conv1", new RoutedConv2d(3, width, 3, padding: 1, inputIsData: true)), ("bn1", BatchNorm2d(width)), ("relu1", ReLU()), ("pool1", MaxPool2d(2)),
            ("conv2", new RoutedConv2d(width, 2 * width, 3, padding: 1)), ("bn2", BatchNorm2d(2 * width)), ("relu2", ReLU()), ("pool2", MaxPool2d(2)),
            ("conv3", new RoutedConv2d(2 * width, 4 * width, 3, padding: 1)), ("bn3", BatchNorm2d(4 * width)), ("relu3", ReLU()),
            ("pool3", AdaptiveAvgPool2d([3, 3])));
        hidden = Linear(4 * width * 9, 8 * width);
        heads = Linear(8 * width, auCount * featureDim);
        RegisterComponents();
    }

    public int AuCount => _auCount;

    public int FeatureDim => _featureDim;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = features.forward(input).flatten(1);
        x = F.relu(hidden.forward(x));
        var z = heads.forward(x).view(-1, _auCount, _featureDim);
        return F.normalize(z, p: 2, dim: -1, eps: 1e-12).MoveToOuterDisposeScope();
    }
}
