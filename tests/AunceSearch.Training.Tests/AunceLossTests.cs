using AunceSearch.Training.Loss;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AunceSearch.Training.Tests;

public class AunceLossTests
{
    private static string Vectors => AunceSearch.Tests.TestFixtures.Path("aunce/reference-vectors.json");

    [Fact]
    public void Every_reference_case_matches_loss_and_gradients_within_float32_tolerance()
    {
        var results = ReferenceVectorCheck.Run(Vectors);
        Assert.True(results.Count >= 4, $"expected the main case and the tiny cases, got {results.Count}");
        foreach (var r in results)
        {
            Assert.True(r.RelativeLossError <= 1e-5, $"{r.Name}: loss {r.Loss} vs {r.ExpectedLoss} (rel {r.RelativeLossError:E2})");
            Assert.True(r.MaxGradZError <= 1e-6, $"{r.Name}: max |Δ grad_z| {r.MaxGradZError:E2}");
            Assert.True(r.MaxGradRawError <= 1e-6, $"{r.Name}: max |Δ grad_raw| {r.MaxGradRawError:E2}");
        }
    }

    [Fact]
    public void An_AU_that_is_all_zero_or_all_one_contributes_zero_but_counts_in_the_mean()
    {
        using var scope = NewDisposeScope();
        var z1 = F.normalize(torch.randn(6, 2, 4), 2, -1);
        var z2 = F.normalize(torch.randn(6, 2, 4), 2, -1);
        var labels = torch.tensor(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 }, [6, 2]); // AU0 alternates, AU1 all zero
        var options = new AunceLossOptions();
        var perAu = AunceLoss.Compute(z1, z2, labels, [PositiveType.Mix, PositiveType.Mix], options, perAu: true);
        Assert.Equal(0f, perAu[1].item<float>());
        Assert.True(perAu[0].item<float>() > 0);
        var mean = AunceLoss.Compute(z1, z2, labels, [PositiveType.Mix, PositiveType.Mix], options);
        Assert.Equal(perAu[0].item<float>() / 2, mean.item<float>(), 5);
    }

    [Theory]
    [InlineData(0.01, 3.0, 0.0)]
    [InlineData(0.05, 0.0, 2.0)]
    [InlineData(5.0, 1.2, 0.8)]
    public void Extreme_temperatures_and_lambdas_stay_finite_with_finite_gradients(double tau, double lamMin, double lamMaj)
    {
        using var scope = NewDisposeScope();
        var z1 = F.normalize(torch.randn(8, 3, 16), 2, -1).requires_grad_();
        var z2 = F.normalize(torch.randn(8, 3, 16), 2, -1).requires_grad_();
        var labels = torch.randint(0, 2, [8, 3]).to(ScalarType.Float32);
        var options = new AunceLossOptions { Temperature = tau, LambdaMin = lamMin, LambdaMaj = lamMaj };
        foreach (var t in new[] { PositiveType.Max, PositiveType.Mix, PositiveType.Aug })
        {
            var loss = AunceLoss.Compute(z1, z2, labels, [t, t, t], options);
            loss.backward();
            Assert.True(float.IsFinite(loss.item<float>()), $"{t}: loss {loss.item<float>()}");
            Assert.True(z1.grad!.isfinite().all().item<bool>(), $"{t}: non-finite gradient");
            z1.grad!.zero_();
        }
    }

    [Fact]
    public void Positive_type_draw_follows_the_probabilities()
    {
        var options = new AunceLossOptions { PMax = 0.2, PMix = 0.6, PAug = 0.2 };
        var counts = new int[3];
        var rng = new Random(5);
        for (var i = 0; i < 5000; i++)
        {
            foreach (var t in options.DrawPositiveTypes(4, rng))
            {
                counts[(int)t]++;
            }
        }

        Assert.InRange(counts[0] / 20000.0, 0.18, 0.22);
        Assert.InRange(counts[1] / 20000.0, 0.58, 0.62);
        Assert.InRange(counts[2] / 20000.0, 0.18, 0.22);
    }

    [Fact]
    public void Au_weights_follow_the_reference_formula_and_sum_to_C()
    {
        var w = AunceLoss.AuWeights([0.5, 0.25, 0.25]);
        Assert.Equal(3.0, w.Sum(), 10);
        Assert.Equal(0.6, w[0], 10);
        Assert.Equal(1.2, w[1], 10);
    }
}
