using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Runtime;

/// <summary>One convolution shape the encoders use, checked forward and backward.</summary>
/// <param name="ChannelsLast">NHWC input and weights (the <c>channels_last: on</c> layout) instead of NCHW.</param>
public sealed record ConvCase(string Name, int Batch, int InChannels, int OutChannels, int Size, int Kernel, int Stride, int Padding, bool ChannelsLast)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name} (N{Batch} C{InChannels}->{OutChannels} {Size}x{Size} k{Kernel} s{Stride} p{Padding} {(ChannelsLast ? "NHWC" : "NCHW")})");
}

/// <summary>The worst disagreement of one case between the fp32 CPU kernels and the fp64 reference.</summary>
/// <param name="Error">max |fp32 − fp64| / max |fp64| over the output, the input gradient and the weight gradient (NaN if fp32 produced a non-finite value).</param>
/// <param name="Repeatable">Two fp32 runs on the same inputs gave bit-identical results.</param>
public sealed record ConvCaseResult(ConvCase Case, double Error, string Worst, bool Repeatable);

/// <summary>The kernel check's verdict.</summary>
public sealed record KernelCheckResult(IReadOnlyList<ConvCaseResult> Cases, double Tolerance)
{
    public bool Passed => Cases.All(c => double.IsFinite(c.Error) && c.Error <= Tolerance && c.Repeatable);

    public IEnumerable<string> Failures => Cases
        .Where(c => !(double.IsFinite(c.Error) && c.Error <= Tolerance && c.Repeatable))
        .Select(c => string.Create(CultureInfo.InvariantCulture,
            $"{c.Case}: {c.Worst} relative error {c.Error:G3} (tolerance {Tolerance:G1}){(c.Repeatable ? "" : ", not repeatable")}"));
}

/// <summary>
/// Checks libtorch's fp32 CPU convolution kernels (oneDNN's JIT code for the CPU's instruction set, multi-threaded)
/// against an fp64 computation of the same convolution, which libtorch runs in its own portable code (oneDNN has no fp64
/// path): the output, the input gradient and the weight gradient, on the shapes AunceSearch's encoders use, in both
/// layouts, including the small channel counts of test-sized models (fewer channels than one SIMD block) and the
/// 1×1 stride-2 projection of ResNet shortcuts (oneDNN's "reduce to unit stride" path). Each case also runs twice and
/// must give bit-identical results. A failure means the CPU kernels compute wrong numbers on this machine.
/// </summary>
public static class CpuKernelCheck
{
    public const double DefaultTolerance = 1e-4;

    /// <summary>The encoders' convolution shapes (small-cnn; ResNet stem, 3×3, strided 3×3 and 1×1 shortcut; Swin's patch embedding) at test and product widths.</summary>
    public static IReadOnlyList<ConvCase> EncoderCases { get; } = BuildCases();

    public static KernelCheckResult Run(IEnumerable<ConvCase>? cases = null, double tolerance = DefaultTolerance, long seed = 17)
    {
        TorchRuntime.EnsureInitialized();
        var results = new List<ConvCaseResult>();
        foreach (var c in cases ?? EncoderCases)
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
        var (y64, dx64, dw64) = Convolve(x64, w64, c, null);
        var g = torch.randn(y64.shape, ScalarType.Float64, generator: gen);
        (y64, dx64, dw64) = Convolve(x64, w64, c, g);

        var first = Convolve(x64.to(ScalarType.Float32), w64.to(ScalarType.Float32), c, g.to(ScalarType.Float32));
        var second = Convolve(x64.to(ScalarType.Float32), w64.to(ScalarType.Float32), c, g.to(ScalarType.Float32));
        var repeatable = Same(first.Y, second.Y) && Same(first.Dx, second.Dx) && Same(first.Dw, second.Dw);
        var errors = new[]
        {
            ("output", RelativeError(first.Y, y64)),
            ("input gradient", RelativeError(first.Dx, dx64)),
            ("weight gradient", RelativeError(first.Dw, dw64)),
        };
        var worst = errors.OrderByDescending(e => double.IsNaN(e.Item2) ? double.PositiveInfinity : e.Item2).First();
        return new ConvCaseResult(c, worst.Item2, worst.Item1, repeatable);
    }

    /// <summary>Forward, then backward of sum(y · g) (g = ones when null), with the case's layout.</summary>
    private static (Tensor Y, Tensor Dx, Tensor Dw) Convolve(Tensor x, Tensor w, ConvCase c, Tensor? g)
    {
        var xi = (c.ChannelsLast ? Accelerator.ChannelsLast(x) : x.contiguous()).detach().requires_grad_(true);
        var wi = (c.ChannelsLast ? Accelerator.ChannelsLast(w) : w.contiguous()).detach().requires_grad_(true);
        var y = c.Kernel == 1 && c.Padding == 0
            ? Models.PointwiseConv.Apply(xi, wi, c.Stride)   // the shortcut as the encoders compute it
            : nn.functional.conv2d(xi, wi, null, strides: [c.Stride, c.Stride], padding: [c.Padding, c.Padding]);
        var upstream = g is null ? torch.ones_like(y) : (c.ChannelsLast ? Accelerator.ChannelsLast(g) : g);
        y.mul(upstream).sum().backward();
        return (y.detach().to(ScalarType.Float64).contiguous(), xi.grad!.to(ScalarType.Float64).contiguous(), wi.grad!.to(ScalarType.Float64).contiguous());
    }

    private static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    private static double RelativeError(Tensor actual, Tensor expected)
    {
        if (!actual.isfinite().all().item<bool>())
        {
            return double.NaN;
        }

        var scale = expected.abs().max().item<double>();
        return actual.sub(expected).abs().max().item<double>() / Math.Max(scale, 1e-12);
    }

    private static List<ConvCase> BuildCases()
    {
        var cases = new List<ConvCase>();
        foreach (var nhwc in new[] { false, true })
        {
            foreach (var width in new[] { 4, 8, 16, 64 })
            {
                cases.Add(new("small-cnn conv1", 8, 3, width, 24, 3, 1, 1, nhwc));
                cases.Add(new("small-cnn conv2/3", 8, width, 2 * width, 12, 3, 1, 1, nhwc));
                cases.Add(new("resnet stem", 4, 3, width, 32, 7, 2, 3, nhwc));
                cases.Add(new("resnet 3x3", 4, width, width, 8, 3, 1, 1, nhwc));
                cases.Add(new("resnet strided 3x3", 4, width, 2 * width, 8, 3, 2, 1, nhwc));
                cases.Add(new("resnet 1x1 shortcut", 4, width, 2 * width, 8, 1, 2, 0, nhwc));
                cases.Add(new("resnet 1x1 bottleneck", 4, 4 * width, width, 8, 1, 1, 0, nhwc));
                cases.Add(new("1x1 expansion", 4, width, 4 * width, 8, 1, 1, 0, nhwc));
            }

            cases.Add(new("swin patch embedding", 4, 3, 8, 32, 4, 4, 0, nhwc));
        }

        return cases;
    }
}
