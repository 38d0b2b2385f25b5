using AunceSearch.Model;
using AunceSearch.Training.Models;
using AunceSearch.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Tests;

[Collection(GlobalRngCollection.Name)]
public class CpuKernelTests
{
    private static readonly ConvCase AnyCase = new("layer1.0.conv1", 4, 8, 8, 8, 3, 1, 1, false);

    private static KernelCheckResult Verdict(double error, double repeat = 0) =>
        new([new ConvCaseResult(AnyCase, error, "weight gradient", repeat)], CpuKernelCheck.DefaultTolerance);

    [Fact]
    public void The_runtime_switches_nnpack_off_whatever_the_cpu()
    {
        TorchRuntime.EnsureInitialized();
        Assert.False(TorchRuntime.NnpackEnabled);   // else a CPU it does not support prints a warning per convolution
    }

    [Fact]
    public void A_sound_cpu_keeps_onednn()
    {
        var switched = 0;
        var status = CpuKernelPolicy.Decide(() => Verdict(3e-7), () => switched++, oneDnnAlreadyOff: false);
        Assert.Equal(0, switched);
        Assert.True(status.Usable);
        Assert.False(status.OneDnnDisabled);
        Assert.Contains("passed", status.Describe());
    }

    [Fact]
    public void Wrong_onednn_kernels_switch_onednn_off_and_are_checked_again()
    {
        var switched = 0;
        var verdicts = new Queue<KernelCheckResult>([Verdict(0.28), Verdict(2e-6)]);
        var status = CpuKernelPolicy.Decide(verdicts.Dequeue, () => switched++, oneDnnAlreadyOff: false);
        Assert.Equal(1, switched);
        Assert.Empty(verdicts);
        Assert.True(status.Usable);
        Assert.True(status.OneDnnDisabled);
        Assert.Contains("switched off", status.Describe());
        Assert.Contains("layer1.0.conv1 (N4 C8->8 8x8 k3 s1 p1 NCHW): weight gradient relative error 0.28", status.Describe());
    }

    [Fact]
    public void A_run_that_does_not_repeat_within_the_tolerance_fails_like_a_wrong_one()
    {
        // Within 1e-4 of fp64 once, but a second run 0.3 away: a race, not rounding.
        var switched = 0;
        var verdicts = new Queue<KernelCheckResult>([Verdict(1e-6, repeat: 0.3), Verdict(1e-6, repeat: 1e-7)]);
        var status = CpuKernelPolicy.Decide(verdicts.Dequeue, () => switched++, oneDnnAlreadyOff: false);
        Assert.Equal(1, switched);
        Assert.True(status.OneDnnDisabled);
        Assert.Contains("run to run 0.3", status.Describe());
        Assert.True(Verdict(1e-6, repeat: 5e-6).Passed);   // threads summing in another order: rounding, within the tolerance
    }

    [Fact]
    public void Kernels_wrong_with_and_without_onednn_refuse_training()
    {
        var status = CpuKernelPolicy.Decide(() => Verdict(double.NaN), () => { }, oneDnnAlreadyOff: false);
        Assert.False(status.Usable);
        Assert.Contains("failed with and without oneDNN", status.Describe());
        Assert.Contains("AUNCE_CPU_KERNEL_CHECK=off", status.Describe());

        // oneDNN already off (an earlier model's check): a failure has nothing to fall back to.
        var switched = 0;
        var later = CpuKernelPolicy.Decide(() => Verdict(0.5), () => switched++, oneDnnAlreadyOff: true);
        Assert.Equal(0, switched);
        Assert.False(later.Usable);
    }

    [Theory]
    [InlineData(16, 3, 4, false, 3, 16)]     // small-cnn conv1 on AVX-512: the input is data, only the outputs are padded
    [InlineData(16, 4, 8, true, 16, 16)]     // its conv2: both sides
    [InlineData(16, 8, 16, true, 16, 16)]
    [InlineData(16, 3, 64, false, 3, 64)]    // a real ResNet stem: untouched
    [InlineData(16, 64, 64, true, 64, 64)]
    [InlineData(8, 4, 8, true, 8, 8)]        // AVX2: the block is 8
    [InlineData(8, 8, 16, true, 8, 16)]
    [InlineData(0, 4, 8, true, 4, 8)]        // routing off
    public void Narrow_convolutions_are_padded_to_the_cpus_vector_width(int lanes, long cin, long cout, bool inputGrad, long runIn, long runOut) =>
        Assert.Equal((runIn, runOut), ConvRouting.Plan(cin, cout, inputGrad, lanes));

    [Theory]
    [InlineData(null, true, true, 16)]
    [InlineData(null, false, true, 8)]
    [InlineData(null, false, false, 4)]
    [InlineData("AVX2", true, true, 8)]              // oneDNN capped by ONEDNN_MAX_CPU_ISA
    [InlineData("avx512_core_bf16", true, true, 16)]
    [InlineData("avx512_core", false, true, 8)]      // a cap above the hardware changes nothing
    [InlineData("ALL", true, true, 16)]
    [InlineData("sse41", true, true, 4)]
    public void The_vector_width_comes_from_the_cpu_and_onednns_isa_cap(string? cap, bool avx512, bool avx2, int lanes) =>
        Assert.Equal(lanes, CpuVector.Lanes(cap, avx512, avx2));

    [Theory]
    [InlineData(16)]
    [InlineData(8)]
    public void Padding_changes_no_number_forward_or_backward(int lanes)
    {
        // In fp64 (never oneDNN) the padded convolution equals the plain one in value and in every gradient, and the gradients
        // have the real parameters' shapes.
        using var scope = NewDisposeScope();
        foreach (var (cin, cout, k, s, p) in new[] { (3L, 4L, 3L, 1L, 1L), (4L, 8L, 3L, 2L, 1L), (6L, 12L, 1L, 2L, 0L), (5L, 3L, 1L, 1L, 0L) })
        {
            var (ri, ro) = ConvRouting.Plan(cin, cout, inputNeedsGradient: true, lanes);
            Assert.True(Math.Min(ri, ro) >= lanes && (ri > cin || ro > cout));   // every case here is padded
            var x = torch.randn([2, cin, 9, 9], ScalarType.Float64);
            var w = torch.randn([cout, cin, k, k], ScalarType.Float64);
            var b = torch.randn([cout], ScalarType.Float64);
            var plain = Grads(x, w, b, (xi, wi, bi) => nn.functional.conv2d(xi, wi, bi, strides: [s, s], padding: [p, p]));
            var padded = Grads(x, w, b, (xi, wi, bi) => ConvRouting.OnCpu(xi, wi, bi, s, p, lanes));
            foreach (var (a, e) in new[] { (padded.Y, plain.Y), (padded.Dx, plain.Dx), (padded.Dw, plain.Dw), (padded.Db, plain.Db) })
            {
                Assert.Equal(e.shape, a.shape);
                Assert.True(a.sub(e).abs().max().item<double>() < 1e-12);
            }
        }
    }

    private static (Tensor Y, Tensor Dx, Tensor Dw, Tensor Db) Grads(Tensor x, Tensor w, Tensor b, Func<Tensor, Tensor, Tensor, Tensor> conv)
    {
        var (xi, wi, bi) = (x.detach().requires_grad_(true), w.detach().requires_grad_(true), b.detach().requires_grad_(true));
        var y = conv(xi, wi, bi);
        y.mul(torch.arange(y.numel(), dtype: y.dtype).reshape(y.shape).cos()).sum().backward();
        return (y.detach(), xi.grad!, wi.grad!, bi.grad!);
    }

    [Fact]
    public void The_routed_convolution_draws_the_same_parameters_as_torchsharps_under_the_same_names()
    {
        foreach (var bias in new[] { true, false })
        {
            torch.random.manual_seed(7);
            using var plain = nn.Conv2d(4, 8, 3, stride: 2, padding: 1, bias: bias);
            var after = torch.rand(1).item<float>();
            torch.random.manual_seed(7);
            using var routed = new RoutedConv2d(4, 8, 3, stride: 2, padding: 1, bias: bias);
            Assert.Equal(after, torch.rand(1).item<float>());   // the same random draws, so later modules initialise as before
            var expected = plain.state_dict();
            var actual = routed.state_dict();
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            Assert.All(expected, kv => Assert.True(kv.Value.eq(actual[kv.Key]).all().item<bool>(), kv.Key));
        }
    }

    [Fact]
    public void The_check_covers_each_distinct_convolution_of_the_model_with_its_real_widths()
    {
        using var model = ResNetBackbone.ResNet50(width: 64);
        var cases = CpuKernelCheck.CasesFor(model, channelsLast: false);
        Assert.Equal(cases.Count, cases.Select(c => c with { Name = "" }).Distinct().Count());
        var stem = Assert.Single(cases, c => c.Name == "conv1");
        Assert.Equal((3, 64, 7, 2, true), (stem.InChannels, stem.OutChannels, stem.Kernel, stem.Stride, stem.InputIsData));
        Assert.Contains(cases, c => c is { InChannels: 1024, OutChannels: 2048, Kernel: 1, Stride: 2, InputIsData: false });   // layer4's shortcut
        Assert.Contains(cases, c => c is { InChannels: 512, OutChannels: 512, Kernel: 3, Stride: 2 });
        Assert.All(cases, c => Assert.True((c.Size + 2 * c.Padding - c.Kernel) / c.Stride + 1 >= 2, c.ToString()));
        Assert.All(CpuKernelCheck.CasesFor(model, channelsLast: true), c => Assert.True(c.ChannelsLast));
    }

    [Theory]
    [InlineData("small-cnn", 4)]
    [InlineData("resnet18", 8)]
    public void Test_sized_models_train_on_kernels_that_agree_with_fp64(string encoder, int width)
    {
        // On any CPU: the routed oneDNN path passes, or the trainer's fallback (oneDNN off) does; training is never refused.
        // Whether oneDNN stayed on is this CPU's business (printed, not asserted).
        using var model = EncoderFactory.Create(new ModelOptions { Encoder = encoder, Width = width, FeatureDim = 16, InputSize = 32 }, 12);
        var cases = CpuKernelCheck.CasesFor(model, channelsLast: false);
        var status = TorchRuntime.VerifyCpuKernels(cases);
        Assert.Same(status, TorchRuntime.VerifyCpuKernels(cases));
        Assert.True(status.Usable, status.Describe());
        Console.WriteLine($"{encoder} width {width}, {CpuVector.Fp32Lanes} fp32 lanes: {status.Describe()}");
        var direct = CpuKernelCheck.Run(cases);
        Assert.True(direct.Passed, string.Join("\n", direct.Failures));   // with whatever oneDNN setting the verdict left
    }

    [Fact]
    public void A_failing_kernel_is_reported_with_its_shape_and_error()
    {
        // A tolerance no fp32 kernel can meet stands in for a wrong kernel: the verdict must name the case and the number.
        var result = CpuKernelCheck.Run([new ConvCase("small-cnn conv1", 8, 3, 4, 24, 3, 1, 1, false, InputIsData: true)], tolerance: 1e-30);
        Assert.False(result.Passed);
        var failure = Assert.Single(result.Failures);
        Assert.Contains("small-cnn conv1 (N8 C3->4 24x24 k3 s1 p1 NCHW)", failure);
        Assert.Contains("relative error", failure);
    }

    [Fact]
    public void The_resnet_shortcut_matches_a_strided_convolution_in_fp64()
    {
        // fp64 never reaches oneDNN, so the plain strided convolution is the reference for the subsample-then-1x1 form.
        using var scope = NewDisposeScope();
        var x = torch.randn([2, 4, 9, 9], ScalarType.Float64);
        var w = torch.randn([8, 4, 1, 1], ScalarType.Float64);
        var expected = nn.functional.conv2d(x, w, null, strides: [2, 2]);
        var actual = ConvRouting.OnCpu(x, w, null, 2, 0, lanes: 0);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.sub(expected).abs().max().item<double>() < 1e-12);
    }
}
