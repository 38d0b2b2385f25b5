using System.Globalization;
using AunceSearch.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Runtime;

/// <summary>One convolution of a model, checked forward and backward at a small spatial size.</summary>
/// <param name="ChannelsLast">NHWC input and weights (the <c>channels_last: on</c> layout) instead of NCHW.</param>
/// <param name="InputIsData">The layer reads the image batch: its input gradient is not computed (training never needs it).</param>
public sealed record ConvCase(string Name, int Batch, int InChannels, int OutChannels, int Size, int Kernel, int Stride, int Padding, bool ChannelsLast, bool InputIsData = false)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name} (N{Batch} C{InChannels}->{OutChannels} {Size}x{Size} k{Kernel} s{Stride} p{Padding} {(ChannelsLast ? "NHWC" : "NCHW")})");
}

/// <summary>The worst disagreement of one case between the fp32 CPU kernels and the fp64 reference.</summary>
/// <param name="Error">max |fp32 − fp64| / max |fp64| over the output, the weight gradient and (unless the input is data) the input gradient; NaN if fp32 produced a non-finite value.</param>
/// <param name="RepeatError">The same measure between two fp32 runs on the same inputs (threads may sum in another order; a defect does not stay within rounding).</param>
public sealed record ConvCaseResult(ConvCase Case, double Error, string Worst, double RepeatError);

/// <summary>The kernel check's verdict: every case within the tolerance of fp64, and two runs within the tolerance of each other.</summary>
public sealed record KernelCheckResult(IReadOnlyList<ConvCaseResult> Cases, double Tolerance)
{
    public bool Passed => Cases.All(Within);

    public IEnumerable<string> Failures => Cases
        .Where(c => !Within(c))
        .Select(c => string.Create(CultureInfo.InvariantCulture,
            $"{c.Case}: {c.Worst} relative error {c.Error:G3}, run to run {c.RepeatError:G3} (tolerance {Tolerance:G1})"));

    private bool Within(ConvCaseResult c) =>
        double.IsFinite(c.Error) && c.Error <= Tolerance && double.IsFinite(c.RepeatError) && c.RepeatError <= Tolerance;
}

/// <summary>
/// Checks libtorch's fp32 CPU convolution kernels (oneDNN's JIT code for the CPU's instruction set, multi-threaded) on the
/// convolutions of the model about to be trained, at their real channel counts, through the path training takes
/// (<see cref="ConvRouting"/>), against an fp64 computation of the same convolution in libtorch's portable code (oneDNN has no
/// fp64 path): the output, the weight gradient and, where training computes it, the input gradient. Each case runs twice and
/// the runs must agree within the tolerance. A failure means the CPU kernels compute wrong numbers on this machine.
/// </summary>
public static class CpuKernelCheck
{
    public const double DefaultTolerance = 1e-4;

    /// <summary>Products of one case's reference run at most (weights × output positions), so a ResNet-50 checks in about a second.</summary>
    private const double CaseBudget = 40e6;

    /// <summary>The distinct convolutions of <paramref name="model"/> (every <see cref="RoutedConv2d"/>), in the layout training will use.</summary>
    public static IReadOnlyList<ConvCase> CasesFor(nn.Module model, bool channelsLast)
    {
        var cases = new List<ConvCase>();
        var seen = new HashSet<ConvShape>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module is RoutedConv2d { Shape: var s } && seen.Add(s))
            {
                cases.Add(Case(name, s, channelsLast));
            }
        }

        return cases;
    }

    /// <summary>A case for one shape: batch 4 and an output of up to 8×8 positions, smaller where the layer is wide.</summary>
    public static ConvCase Case(string name, ConvShape s, bool channelsLast)
    {
        const int batch = 4;
        var weights = (double)s.InChannels * s.OutChannels * s.Kernel * s.Kernel;
        var side = (int)Math.Clamp(Math.Floor(Math.Sqrt(CaseBudget / (weights * batch))), 2, 8);
        var size = (int)((side - 1) * s.Stride + s.Kernel - 2 * s.Padding);
        return new ConvCase(name, batch, (int)s.InChannels, (int)s.OutChannels, Math.Max(size, (int)s.Kernel), (int)s.Kernel, (int)s.Stride,
            (int)s.Padding, channelsLast, s.InputIsData);
    }

    public static KernelCheckResult Run(IEnumerable<ConvCase> cases, double tolerance = DefaultTolerance, long seed = 17)
    {
        TorchRuntime.EnsureInitialized();
        var results = new List<ConvCaseResult>();
        foreach (var c in cases)
        {
            results.Add(RunCase(c, seed++));
        }

        return new KernelCheckResult(results, tolerance);
    }

    private static ConvCaseResult RunCase(ConvCase c, long seed)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator((ulong)seed);
        var x64 = torch.randn([c.Batch, c.InChannels, c.Size, c.Size], ScalarType.Float64, generator: gen);
        var w64 = torch.randn([c.OutChannels, c.InChannels, c.Kernel, c.Kernel], ScalarType.Float64, generator: gen)
            .div_(Math.Sqrt(c.InChannels * c.Kernel * c.Kernel));
        var expected = Convolve(x64, w64, c, null, reference: true);
        var g = torch.randn(expected.Y.shape, ScalarType.Float64, generator: gen);
        expected = Convolve(x64, w64, c, g, reference: true);

        var (x32, w32, g32) = (x64.to(ScalarType.Float32), w64.to(ScalarType.Float32), g.to(ScalarType.Float32));
        var first = Convolve(x32, w32, c, g32, reference: false);
        var second = Convolve(x32, w32, c, g32, reference: false);
        var errors = Compare(first, expected);
        var worst = errors.OrderByDescending(e => double.IsNaN(e.Error) ? double.PositiveInfinity : e.Error).First();
        var repeat = Compare(second, first).Max(e => double.IsNaN(e.Error) ? double.PositiveInfinity : e.Error);
        return new ConvCaseResult(c, worst.Error, worst.Part, repeat);
    }

    private static (string Part, double Error)[] Compare(Outputs actual, Outputs expected) =>
    [
        ("output", RelativeError(actual.Y, expected.Y)),
        ("weight gradient", RelativeError(actual.Dw, expected.Dw)),
        .. actual.Dx is { } dx && expected.Dx is { } ex ? [("input gradient", RelativeError(dx, ex))] : Array.Empty<(string, double)>(),
    ];

    private sealed record Outputs(Tensor Y, Tensor Dw, Tensor? Dx);

    /// <summary>Forward, then backward of sum(y · g) (g = ones when null), in the case's layout: the reference as a plain fp64 convolution, fp32 as training routes it.</summary>
    private static Outputs Convolve(Tensor x, Tensor w, ConvCase c, Tensor? g, bool reference)
    {
        var xi = (c.ChannelsLast ? Accelerator.ChannelsLast(x) : x.contiguous()).detach().requires_grad_(!c.InputIsData);
        var wi = (c.ChannelsLast ? Accelerator.ChannelsLast(w) : w.contiguous()).detach().requires_grad_(true);
        var y = reference
            ? nn.functional.conv2d(xi, wi, null, strides: [c.Stride, c.Stride], padding: [c.Padding, c.Padding])
            : ConvRouting.Apply(xi, wi, null, c.Stride, c.Padding);
        var upstream = g is null ? torch.ones_like(y) : (c.ChannelsLast ? Accelerator.ChannelsLast(g) : g);
        y.mul(upstream).sum().backward();
        return new Outputs(
            y.detach().to(ScalarType.Float64).contiguous(),
            wi.grad!.to(ScalarType.Float64).contiguous(),
            c.InputIsData ? null : xi.grad!.to(ScalarType.Float64).contiguous());
    }

    private static double RelativeError(Tensor actual, Tensor expected)
    {
        if (!actual.isfinite().all().item<bool>())
        {
            return double.NaN;
        }

        var scale = expected.abs().max().item<double>();
        return actual.sub(expected).abs().max().item<double>() / Math.Max(scale, 1e-12);
    }
}

/// <summary>
/// What to do with a kernel check's verdict, separate from libtorch so that it can be tested with any verdict: keep oneDNN
/// when the check passes; otherwise switch it off for the process and check again on libtorch's portable kernels; refuse
/// training when that fails too. Once oneDNN is off it stays off, and a failing check then has nothing to fall back to.
/// </summary>
public static class CpuKernelPolicy
{
    public static CpuKernelStatus Decide(Func<KernelCheckResult> check, Action switchOneDnnOff, bool oneDnnAlreadyOff)
    {
        var first = check();
        if (first.Passed || oneDnnAlreadyOff)
        {
            return new CpuKernelStatus(first, null, oneDnnAlreadyOff);
        }

        switchOneDnnOff();
        return new CpuKernelStatus(first, check());
    }
}
