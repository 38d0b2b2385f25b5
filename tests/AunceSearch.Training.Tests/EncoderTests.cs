using AunceSearch.Model;
using AunceSearch.Training.Models;
using AunceSearch.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Tests;

[Collection(GlobalRngCollection.Name)]
public class EncoderTests
{
    private static long Count(torch.nn.Module m) => m.parameters().Sum(p => p.NumberOfElements);

    [Fact]
    public void Backbones_have_the_published_parameter_counts()
    {
        // torchvision / timm totals without their ImageNet classifiers (fc: 512·1000+1000, 2048·1000+1000; head: 768·1000+1000).
        using var r18 = ResNetBackbone.ResNet18();
        using var r50 = ResNetBackbone.ResNet50();
        using var swinT = new SwinBackbone(SwinOptions.Tiny, 224);
        Assert.Equal(11_689_512 - 513_000, Count(r18));
        Assert.Equal(25_557_032 - 2_049_000, Count(r50));
        Assert.Equal(28_288_354 - 769_000, Count(swinT));
    }

    [Fact]
    public void Parameter_names_follow_torchvision_and_the_original_swin()
    {
        using var r = ResNetBackbone.ResNet50(8);
        var names = r.named_parameters().Select(p => p.name).Concat(r.named_buffers().Select(b => b.name)).ToHashSet();
        Assert.Contains("conv1.weight", names);
        Assert.Contains("layer1.0.downsample.0.weight", names);
        Assert.Contains("layer4.2.bn3.running_var", names);
        using var s = new SwinBackbone(new SwinOptions { EmbedDim = 8, Depths = [2, 2, 1, 1], Heads = [1, 2, 2, 4], Window = 2 }, 32);
        var swin = s.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("patch_embed.proj.weight", swin);
        Assert.Contains("layers.0.blocks.1.attn.relative_position_bias_table", swin);
        Assert.Contains("layers.2.downsample.reduction.weight", swin);
        Assert.Contains("norm.weight", swin);
        Assert.DoesNotContain(s.named_buffers(), b => b.name.Contains("relative_position_index") || b.name.Contains("attn_mask"));
    }

    public static TheoryData<string> Encoders => new() { "resnet18", "resnet50", "swin-t", "swin-b" };

    [Theory]
    [MemberData(nameof(Encoders))]
    public void Encoders_output_one_unit_vector_per_au_and_train(string encoder)
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(1);
        var options = new ModelOptions
        {
            Encoder = encoder, Width = 4, FeatureDim = 16, InputSize = 32,
            EmbedDim = 8, Depths = [2, 2, 1, 1], Heads = [1, 2, 2, 4], Window = 2, DropPath = 0.1,
        };
        using var model = EncoderFactory.Create(options, 5);
        Assert.StartsWith("AuEncoder", model.GetName());
        var x = torch.randn(3, 3, 32, 32);
        var z = model.forward(x);
        Assert.Equal([3L, 5, 16], z.shape);
        Assert.True(z.pow(2).sum(-1).sqrt().sub(1).abs().max().item<float>() < 1e-5);
        z.sum().backward();
        Assert.All(model.parameters(), p => Assert.True(p.grad is null || p.grad.isfinite().all().item<bool>()));
        Assert.Contains(model.named_parameters(), p => p.name == "head.gnn.bnv.weight");
        Assert.Contains(model.named_parameters(), p => p.name == "head.class_linears.4.fc.weight");
        Assert.Contains(model.named_parameters(), p => p.name == "global_linear.bn.weight");
    }

    [Fact]
    public void Swin_rejects_an_image_size_its_windows_cannot_tile()
    {
        var e = Assert.Throws<ArgumentException>(() => new SwinBackbone(SwinOptions.Tiny, 200));
        Assert.Contains("window", e.Message);
    }

    [Fact]
    public void Flat_adamw_matches_torchsharp_adamw()
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(3);
        using var a = ResNetBackbone.ResNet18(4);
        using var b = ResNetBackbone.ResNet18(4);
        b.load_state_dict(a.state_dict());
        var initial = a.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        using var reference = torch.optim.AdamW(a.parameters(), 0.01, weight_decay: 0.05);
        using var flat = new FlatAdamW(b.parameters(), 0.01, weightDecay: 0.05);
        var bByName = b.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        for (var step = 0; step < 3; step++)
        {
            // Both optimizers get the same gradients (computed once, on a), so this compares the update rules alone.
            var x = torch.randn(2, 3, 32, 32);
            reference.zero_grad();
            a.forward(x).pow(2).mean().backward();
            flat.ZeroGrad();
            using (torch.no_grad())
            {
                foreach (var (name, p) in a.named_parameters())
                {
                    bByName[name].grad!.copy_(p.grad!);
                }
            }

            reference.step();
            flat.Step();
        }

        var pa = a.named_parameters().ToList();
        var pb = b.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.All(pa, p => Assert.True(p.parameter.sub(pb[p.name]).abs().max().item<float>() < 1e-5, p.name));
        Assert.True(pa.Sum(p => p.parameter.sub(initial[p.name]).abs().sum().item<float>()) > 0.1);   // it did train
    }
}
