using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AunceSearch.Training.Models;

/// <summary>
/// ResNet-18/34/50/101 backbones written to torchvision's layout: every parameter and buffer has the name torchvision's
/// <c>resnet*.state_dict()</c> uses (<c>conv1.weight</c>, <c>layer1.0.bn2.running_var</c>, <c>layer2.0.downsample.0.weight</c>),
/// so ImageNet weights exported from PyTorch load by name. Bottleneck blocks stride in the 3×3 convolution (ResNet v1.5,
/// as torchvision). No pooling and no classifier: <see cref="forward"/> returns the last stage's feature map as tokens
/// (B, h·w, channels).
/// </summary>
public sealed class ResNetBackbone : Module<Tensor, Tensor>, IBackbone
{
    private readonly RoutedConv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;

    /// <param name="blocks">Blocks per stage, e.g. [2, 2, 2, 2] (ResNet-18) or [3, 4, 6, 3] (ResNet-50).</param>
    /// <param name="bottleneck">Bottleneck blocks (expansion 4) instead of basic blocks.</param>
    /// <param name="width">Channels of the stem and the first stage (torchvision: 64).</param>
    public ResNetBackbone(int[] blocks, bool bottleneck, int width = 64) : base("ResNet")
    {
        if (blocks.Length != 4 || blocks.Any(b => b < 1))
        {
            throw new ArgumentException($"a ResNet needs 4 stages of at least one block, got [{string.Join(", ", blocks)}]", nameof(blocks));
        }

        var expansion = bottleneck ? 4 : 1;
        conv1 = new RoutedConv2d(3, width, 7, stride: 2, padding: 3, bias: false, inputIsData: true);
        bn1 = BatchNorm2d(width);
        maxpool = MaxPool2d(3, stride: 2, padding: 1);
        var inplanes = width;
        Sequential Stage(int planes, int count, int stride)
        {
            var modules = new List<(string, Module<Tensor, Tensor>)>();
            for (var i = 0; i < count; i++)
            {
                var s = i == 0 ? stride : 1;
                modules.Add((i.ToString(System.Globalization.CultureInfo.InvariantCulture), bottleneck
                    ? new Bottleneck(inplanes, planes, s)
                    : new BasicBlock(inplanes, planes, s)));
                inplanes = planes * expansion;
            }

            return Sequential(modules);
        }

        layer1 = Stage(width, blocks[0], 1);
        layer2 = Stage(width * 2, blocks[1], 2);
        layer3 = Stage(width * 4, blocks[2], 2);
        layer4 = Stage(width * 8, blocks[3], 2);
        OutputChannels = width * 8 * expansion;
        RegisterComponents();
        foreach (var (name, p) in named_parameters())
        {
            using var _ = torch.no_grad();
            if (p.dim() == 4)
            {
                init.kaiming_normal_(p, 0, init.FanInOut.FanOut, init.NonlinearityType.ReLU);
            }
        }
    }

    public static ResNetBackbone ResNet18(int width = 64) => new([2, 2, 2, 2], false, width);

    public static ResNetBackbone ResNet34(int width = 64) => new([3, 4, 6, 3], false, width);

    public static ResNetBackbone ResNet50(int width = 64) => new([3, 4, 6, 3], true, width);

    public static ResNetBackbone ResNet101(int width = 64) => new([3, 4, 23, 3], true, width);

    public int OutputChannels { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = maxpool.forward(functional.relu(bn1.forward(conv1.forward(input))));
        x = layer4.forward(layer3.forward(layer2.forward(layer1.forward(x))));
        return x.flatten(2).transpose(1, 2).MoveToOuterDisposeScope();   // (B, h·w, C)
    }

    private sealed class BasicBlock : Module<Tensor, Tensor>
    {
        private readonly RoutedConv2d conv1;
        private readonly BatchNorm2d bn1;
        private readonly RoutedConv2d conv2;
        private readonly BatchNorm2d bn2;
        private readonly Sequential? downsample;

        public BasicBlock(int inplanes, int planes, int stride) : base("BasicBlock")
        {
            conv1 = new RoutedConv2d(inplanes, planes, 3, stride: stride, padding: 1, bias: false);
            bn1 = BatchNorm2d(planes);
            conv2 = new RoutedConv2d(planes, planes, 3, padding: 1, bias: false);
            bn2 = BatchNorm2d(planes);
            if (stride != 1 || inplanes != planes)
            {
                downsample = Sequential(("0", new RoutedConv2d(inplanes, planes, 1, stride: stride, bias: false)), ("1", BatchNorm2d(planes)));
            }

            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var o = functional.relu(bn1.forward(conv1.forward(x)));
            o = bn2.forward(conv2.forward(o));
            var identity = downsample is null ? x : downsample.forward(x);
            return functional.relu(o.add_(identity)).MoveToOuterDisposeScope();
        }
    }

    private sealed class Bottleneck : Module<Tensor, Tensor>
    {
        private readonly RoutedConv2d conv1;
        private readonly BatchNorm2d bn1;
        private readonly RoutedConv2d conv2;
        private readonly BatchNorm2d bn2;
        private readonly RoutedConv2d conv3;
        private readonly BatchNorm2d bn3;
        private readonly Sequential? downsample;

        public Bottleneck(int inplanes, int planes, int stride) : base("Bottleneck")
        {
            conv1 = new RoutedConv2d(inplanes, planes, 1, bias: false);
            bn1 = BatchNorm2d(planes);
            conv2 = new RoutedConv2d(planes, planes, 3, stride: stride, padding: 1, bias: false);
            bn2 = BatchNorm2d(planes);
            conv3 = new RoutedConv2d(planes, planes * 4, 1, bias: false);
            bn3 = BatchNorm2d(planes * 4);
            if (stride != 1 || inplanes != planes * 4)
            {
                downsample = Sequential(("0", new RoutedConv2d(inplanes, planes * 4, 1, stride: stride, bias: false)), ("1", BatchNorm2d(planes * 4)));
            }

            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var o = functional.relu(bn1.forward(conv1.forward(x)));
            o = functional.relu(bn2.forward(conv2.forward(o)));
            o = bn3.forward(conv3.forward(o));
            var identity = downsample is null ? x : downsample.forward(x);
            return functional.relu(o.add_(identity)).MoveToOuterDisposeScope();
        }
    }
}

/// <summary>A backbone: images (B, 3, H, W) → tokens (B, L, <see cref="OutputChannels"/>).</summary>
public interface IBackbone
{
    int OutputChannels { get; }
}
