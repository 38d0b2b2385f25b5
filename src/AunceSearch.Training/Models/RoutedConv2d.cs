using AunceSearch.Training.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace AunceSearch.Training.Models;

/// <summary>A convolution's shape as the kernel check and the routing see it.</summary>
/// <param name="InputIsData">The input is the image batch: training never computes its gradient.</param>
public sealed record ConvShape(long InChannels, long OutChannels, long Kernel, long Stride, long Padding, bool InputIsData);

/// <summary>
/// <c>nn.Conv2d</c> (square kernel, no groups or dilation) computed through <see cref="ConvRouting"/>, so that the CPU's
/// oneDNN kernels only ever see the shapes they compute correctly. Its parameters are TorchSharp's own <c>Conv2d</c>'s —
/// drawn by that module (the same initialisation and random draws) and taken over under the same names (<c>weight</c>,
/// <c>bias</c>), so checkpoints, pretrained weights and exports are unchanged.
/// </summary>
public sealed class RoutedConv2d : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    /// <param name="inputIsData">The layer reads the image batch (a stem or patch embedding): its input gradient is never needed.</param>
    public RoutedConv2d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0, bool bias = true, bool inputIsData = false)
        : base("Conv2d")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        Shape = new ConvShape(inChannels, outChannels, kernel, stride, padding, inputIsData);
        using (var drawn = Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding, bias: bias))
        using (torch.no_grad())
        {
            weight = Parameter(drawn.weight!.detach().clone());
            this.bias = bias ? Parameter(drawn.bias!.detach().clone()) : null;
        }

        RegisterComponents();
    }

    public ConvShape Shape { get; }

    public override Tensor forward(Tensor input) => ConvRouting.Apply(input, weight, bias, Shape.Stride, Shape.Padding);
}

/// <summary>
/// Where AunceSearch's convolutions run on the CPU. libtorch 2.10's oneDNN computes wrong backward passes for convolutions
/// with fewer channels than one vector register holds fp32 values (<see cref="CpuVector.Fp32Lanes"/>: 16 on AVX-512, 8 on
/// AVX2): gradients up to 1.14 relative off, intermittently with several threads and always with one (measured on an
/// AMD Zen 4; test-sized models of width 4 or 8 have such layers, real encoders only their 3-channel input). So, for fp32 on
/// the CPU:
/// <list type="bullet">
/// <item>a convolution with fewer output channels than the lanes gets zero output channels up to the lanes, and its output
/// is narrowed back; one whose input gradient is needed and that has fewer input channels gets zero input channels
/// (on the input and the weight) — the same arithmetic, since every added product is zero, on shapes oneDNN computes
/// correctly, and the gradient reaches only the real weights;</item>
/// <item>a strided 1×1 convolution (ResNet's shortcut) subsamples its input first and runs at unit stride: oneDNN's
/// "reduce to unit stride" path computes wrong weight gradients and writes past its per-thread workspace below one
/// block of channels in NHWC (uxlfoundation/oneDNN#6035).</item>
/// </list>
/// Other devices and types run the convolution as is. The layers of real encoders (64+ channels) are never padded.
/// </summary>
public static class ConvRouting
{
    private static int _lanes = CpuVector.Fp32Lanes;

    /// <summary>The channel count below which fp32 CPU convolutions are padded; 0 turns the padding off (benchmarks measure it both ways).</summary>
    public static int Lanes
    {
        get => Volatile.Read(ref _lanes);
        set => Volatile.Write(ref _lanes, Math.Max(0, value));
    }

    /// <summary>The channels a convolution runs with: its own, or the lanes where it has fewer (input channels only when their gradient is needed).</summary>
    public static (long In, long Out) Plan(long inChannels, long outChannels, bool inputNeedsGradient, int lanes) =>
        lanes <= 1
            ? (inChannels, outChannels)
            : (inputNeedsGradient && inChannels < lanes ? lanes : inChannels, outChannels < lanes ? lanes : outChannels);

    /// <summary>conv2d(input, weight, bias, stride, padding), routed as the class describes.</summary>
    public static Tensor Apply(Tensor input, Tensor weight, Tensor? bias, long stride, long padding) =>
        input.device_type == DeviceType.CPU
            ? OnCpu(input, weight, bias, stride, padding, input.dtype == ScalarType.Float32 ? Lanes : 0)
            : F.conv2d(input, weight, bias, strides: [stride, stride], padding: [padding, padding]);

    /// <summary>The CPU path with channels padded below <paramref name="lanes"/> whatever the type (tests run it in fp64, where no kernel is in doubt).</summary>
    public static Tensor OnCpu(Tensor input, Tensor weight, Tensor? bias, long stride, long padding, int lanes)
    {
        using var scope = NewDisposeScope();
        var x = input;
        if (stride > 1 && padding == 0 && weight.shape[2] == 1 && weight.shape[3] == 1)
        {
            var every = TensorIndex.Slice(null, null, stride);
            x = x[TensorIndex.Colon, TensorIndex.Colon, every, every];
            stride = 1;
        }

        var w = weight;
        var b = bias;
        var (inChannels, outChannels) = (weight.shape[1], weight.shape[0]);
        var (runIn, runOut) = Plan(inChannels, outChannels, input.requires_grad, lanes);
        if (runIn > inChannels)
        {
            x = F.pad(x, [0, 0, 0, 0, 0, runIn - inChannels]);
            w = F.pad(w, [0, 0, 0, 0, 0, runIn - inChannels]);
        }

        if (runOut > outChannels)
        {
            w = F.pad(w, [0, 0, 0, 0, 0, 0, 0, runOut - outChannels]);
            b = b is null ? null : F.pad(b, [0, runOut - outChannels]);
        }

        var y = F.conv2d(x, w, b, strides: [stride, stride], padding: [padding, padding]);
        return (runOut > outChannels ? y.narrow(1, 0, outChannels) : y).MoveToOuterDisposeScope();
    }
}
