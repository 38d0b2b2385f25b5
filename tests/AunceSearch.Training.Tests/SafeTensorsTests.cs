using System.Text;
using AunceSearch.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Tests;

[Collection(GlobalRngCollection.Name)]
public class SafeTensorsTests
{
    private static IEnumerable<(string, Tensor)> StateOf(torch.nn.Module m, string prefix = "") =>
        m.named_parameters().Select(p => (prefix + p.name, (Tensor)p.parameter)).Concat(m.named_buffers().Select(b => (prefix + b.name, b.buffer)));

    [Fact]
    public void A_torchvision_style_file_loads_into_the_backbone_by_name()
    {
        using var scope = NewDisposeScope();
        var dir = TestPaths.TempDirectory();
        var file = Path.Combine(dir, "resnet18.safetensors");
        torch.random.manual_seed(1);
        using var source = ResNetBackbone.ResNet18(8);
        source.eval();
        // A classifier the way torchvision saves it is ignored; a "module." prefix (DataParallel) is stripped.
        SafeTensors.Write(file, StateOf(source, "module.").Append(("fc.weight", torch.zeros(10, 64))).Append(("fc.bias", torch.zeros(10))));
        torch.random.manual_seed(2);
        using var target = ResNetBackbone.ResNet18(8);
        target.eval();
        var x = torch.randn(2, 3, 32, 32);
        Assert.False(source.forward(x).allclose(target.forward(x)));
        var report = SafeTensors.LoadBackbone(target, file);
        Assert.True(source.forward(x).allclose(target.forward(x)));
        Assert.Contains("fc.weight", report.Ignored);
        Assert.Equal(StateOf(target).Count(t => !t.Item1.EndsWith("num_batches_tracked")), report.Loaded - StateOf(target).Count(t => t.Item1.EndsWith("num_batches_tracked")));
    }

    [Fact]
    public void A_timm_layout_swin_file_is_mapped_to_the_original_layout()
    {
        using var scope = NewDisposeScope();
        var file = Path.Combine(TestPaths.TempDirectory(), "swin.safetensors");
        var o = new SwinOptions { EmbedDim = 8, Depths = [2, 2, 1, 1], Heads = [1, 2, 2, 4], Window = 2, DropPath = 0 };
        torch.random.manual_seed(1);
        using var source = new SwinBackbone(o, 32);
        source.eval();
        // timm >= 0.9 keeps patch merging at the start of the next stage: layers.{i+1}.downsample.
        SafeTensors.Write(file, StateOf(source).Select(t => (System.Text.RegularExpressions.Regex.Replace(t.Item1, @"^layers\.(\d)\.downsample",
            m => $"layers.{int.Parse(m.Groups[1].Value) + 1}.downsample"), t.Item2)).Append(("head.fc.weight", torch.zeros(3, 64))));
        torch.random.manual_seed(2);
        using var target = new SwinBackbone(o, 32);
        target.eval();
        var report = SafeTensors.LoadBackbone(target, file);
        Assert.Equal("timm", report.Layout);
        var x = torch.randn(2, 3, 32, 32);
        Assert.True(source.forward(x).allclose(target.forward(x), 1e-5, 1e-6));
    }

    [Fact]
    public void Bad_files_are_rejected_with_the_file_and_tensor_named_and_the_model_left_untouched()
    {
        using var scope = NewDisposeScope();
        var dir = TestPaths.TempDirectory();
        torch.random.manual_seed(1);
        using var small = ResNetBackbone.ResNet18(4);
        using var model = ResNetBackbone.ResNet18(8);
        var before = model.named_parameters().First().parameter.clone();

        var wrongShape = Path.Combine(dir, "wrong-shape.safetensors");
        SafeTensors.Write(wrongShape, StateOf(small));
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensors.LoadBackbone(model, wrongShape));
        Assert.Contains("wrong-shape.safetensors", e.Message);
        Assert.Contains("conv1.weight", e.Message);

        var missing = Path.Combine(dir, "missing.safetensors");
        SafeTensors.Write(missing, StateOf(model).Where(t => !t.Item1.StartsWith("layer4")));
        e = Assert.Throws<SafeTensorsException>(() => SafeTensors.LoadBackbone(model, missing));
        Assert.Contains("missing", e.Message);
        Assert.Contains("layer4", e.Message);

        var truncated = Path.Combine(dir, "truncated.safetensors");
        var good = Path.Combine(dir, "good.safetensors");
        SafeTensors.Write(good, StateOf(model));
        File.WriteAllBytes(truncated, File.ReadAllBytes(good)[..^100]);
        e = Assert.Throws<SafeTensorsException>(() => SafeTensors.LoadBackbone(model, truncated));
        Assert.Contains("truncated.safetensors", e.Message);

        var garbage = Path.Combine(dir, "garbage.safetensors");
        File.WriteAllBytes(garbage, [16, 0, 0, 0, 0, 0, 0, 0, .. Encoding.UTF8.GetBytes("{not json at all"), 0]);
        e = Assert.Throws<SafeTensorsException>(() => SafeTensors.LoadBackbone(model, garbage));
        Assert.Contains("JSON", e.Message);

        Assert.Throws<SafeTensorsException>(() => SafeTensors.LoadBackbone(model, Path.Combine(dir, "absent.safetensors")));
        Assert.True(before.allclose(model.named_parameters().First().parameter, 0, 0));
    }
}
