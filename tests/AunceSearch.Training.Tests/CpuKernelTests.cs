using AunceSearch.Training.Runtime;

namespace AunceSearch.Training.Tests;

[Collection(GlobalRngCollection.Name)]
public class CpuKernelTests
{
    [Fact]
    public void Convolution_kernels_agree_with_fp64_on_every_encoder_shape_and_repeat_exactly()
    {
        var result = CpuKernelCheck.Run();
        Assert.True(result.Passed, "CPU convolution kernels disagree with the fp64 reference:\n" + string.Join("\n", result.Failures));
        Assert.Equal(CpuKernelCheck.EncoderCases.Count, result.Cases.Count);
        Assert.All(result.Cases, c => Assert.True(c.Error < 1e-5, $"{c.Case}: {c.Error}"));
    }

    [Fact]
    public void The_trainer_verifies_the_cpu_kernels_once_and_keeps_onednn_when_they_are_correct()
    {
        var status = TorchRuntime.VerifyCpuKernels();
        Assert.Same(status, TorchRuntime.VerifyCpuKernels());
        Assert.True(status.Usable, status.Describe());
        Assert.False(status.OneDnnDisabled, status.Describe());
        Assert.Contains("passed", status.Describe());
    }

    [Fact]
    public void A_failing_kernel_is_reported_with_its_shape_and_error()
    {
        // A tolerance no fp32 kernel can meet stands in for a wrong kernel: the verdict must name the case and the number.
        var result = CpuKernelCheck.Run([CpuKernelCheck.EncoderCases[0]], tolerance: 1e-30);
        Assert.False(result.Passed);
        var failure = Assert.Single(result.Failures);
        Assert.Contains("small-cnn conv1 (N8 C3->4 24x24 k3 s1 p1 NCHW)", failure);
        Assert.Contains("relative error", failure);
    }

    [Fact]
    public void The_resnet_shortcut_matches_a_strided_convolution_in_fp64()
    {
        // fp64 never reaches oneDNN, so the plain strided convolution is the reference for the subsample-then-1x1 form.
        using var scope = TorchSharp.torch.NewDisposeScope();
        var x = TorchSharp.torch.randn([2, 4, 9, 9], TorchSharp.torch.ScalarType.Float64);
        var w = TorchSharp.torch.randn([8, 4, 1, 1], TorchSharp.torch.ScalarType.Float64);
        var expected = TorchSharp.torch.nn.functional.conv2d(x, w, null, strides: [2, 2]);
        var actual = Models.PointwiseConv.Apply(x, w, 2);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.sub(expected).abs().max().item<double>() < 1e-12);
    }
}
