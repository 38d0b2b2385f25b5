using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AunceSearch.Training.Models;

/// <summary>
/// A bias-free 1×1 convolution with a stride: ResNet's shortcut projection (<c>downsample.0</c>, parameter <c>weight</c> of
/// shape (out, in, 1, 1) as torchvision's). On the CPU it subsamples the input first and then runs a unit-stride 1×1
/// convolution — the same arithmetic — because oneDNN's own path for strided 1×1 convolutions ("reduce to unit stride")
/// computes wrong weight gradients and writes past its per-thread workspace when the source is NHWC and has fewer channels
/// than one SIMD block (8 on AVX2, 16 on AVX-512): uxlfoundation/oneDNN#6035, in the oneDNN that libtorch 2.10 ships. On
/// other devices the strided convolution runs as is.
/// </summary>
public sealed class PointwiseConv : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly long _stride;

    public PointwiseConv(long inChannels, long outChannels, long stride) : base("Conv2d")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        _stride = stride;
        weight = Parameter(torch.empty(outChannels, inChannels, 1, 1));
        using (torch.no_grad())
        {
            init.kaiming_uniform_(weight, Math.Sqrt(5));   // nn.Conv2d's default initialisation
        }

        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Apply(input, weight, _stride);

    /// <summary>y = conv2d(x, w, stride), computed as conv2d(x[:, :, ::stride, ::stride], w) on the CPU.</summary>
    public static Tensor Apply(Tensor input, Tensor weight, long stride)
    {
        if (stride == 1 || input.device_type != DeviceType.CPU)
        {
            return functional.conv2d(input, weight, null, strides: [stride, stride]);
        }

        using var scope = NewDisposeScope();
        var every = TensorIndex.Slice(null, null, stride);
        var sampled = input[TensorIndex.Colon, TensorIndex.Colon, every, every];
        return functional.conv2d(sampled, weight).MoveToOuterDisposeScope();
    }
}
