using AunceSearch.Training.Loss;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AunceSearch.Training.Tests;

/// <summary>The vectorised loss against a loop-by-loop float64 transcription of aunce-reference §1 and §9, for every mode.</summary>
[Collection(GlobalRngCollection.Name)]
public class LossModeTests
{
    public static TheoryData<string, string, int> Cases => new()
    {
        { "reference", "label", 1 },
        { "reference", "frequency", 2 },
        { "paper", "label", 3 },
        { "paper", "frequency", 4 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_a_loop_transcription_of_the_definition(string positives, string assignment, int seed)
    {
        const int B = 6, C = 5, D = 4;
        var rng = new Random(seed);
        var z1 = Unit(rng, B, C, D);
        var z2 = Unit(rng, B, C, D);
        var y = new int[B, C];
        for (var b = 0; b < B; b++)
        {
            y[b, 0] = b < 2 ? 1 : 0;       // minority active
            y[b, 1] = b < 5 ? 1 : 0;       // active majority: frequency assignment flips λ
            y[b, 2] = b == 3 ? 1 : 0;      // a unique positive: paper MAX/MIN fall back to AUG
            y[b, 3] = 0;                   // all zero: loss exactly 0
            y[b, 4] = rng.Next(2);
        }

        var paper = positives == "paper";
        var types = paper
            ? new[] { PositiveType.Max, PositiveType.Min, PositiveType.Max, PositiveType.Mix, PositiveType.Mix }
            : new[] { PositiveType.Max, PositiveType.Mix, PositiveType.Aug, PositiveType.Mix, PositiveType.Max };
        var options = new AunceLossOptions
        {
            Temperature = 0.3,
            LambdaMin = 1.3,
            LambdaMaj = 0.4,
            PMax = 0.25, PAug = 0.25, PMix = 0.25 + (paper ? 0 : 0.25), PMin = paper ? 0.25 : 0,
            Positives = paper ? PositiveMode.Paper : PositiveMode.Reference,
            LambdaAssignment = assignment == "frequency" ? LambdaAssignment.Frequency : LambdaAssignment.Label,
            UseAuWeight = seed % 2 == 0,
        };
        options.Validate();
        var rates = Enumerable.Range(0, C).Select(k => Enumerable.Range(0, B).Average(b => (double)y[b, k])).ToArray();
        var minority = AunceLoss.MinorityLabels(rates);
        var weights = AunceLoss.AuWeights(rates.Select(r => Math.Max(r, 0.05)).ToArray());

        var expected = Reference(z1, z2, y, types, options, minority.Select(m => (int)m).ToArray(), weights);

        using var scope = NewDisposeScope();
        var t1 = ToTensor(z1, B, C, D);
        var t2 = ToTensor(z2, B, C, D);
        var labels = torch.tensor(Flatten(y).Select(v => (float)v).ToArray(), [B, C]);
        var perAu = AunceLoss.Compute(t1, t2, labels, types, options, torch.tensor(weights.Select(w => (float)w).ToArray()), perAu: true,
            minorityLabel: torch.tensor(minority));
        var actual = perAu.data<float>().ToArray();
        for (var k = 0; k < C; k++)
        {
            Assert.True(Math.Abs(actual[k] - expected[k]) <= 1e-5 * Math.Max(1, Math.Abs(expected[k])), $"AU {k}: {actual[k]} vs {expected[k]}");
        }

        Assert.Equal(0f, actual[3]);
    }

    [Fact]
    public void Paper_mode_gradients_are_finite_for_edge_batches()
    {
        using var scope = NewDisposeScope();
        var options = new AunceLossOptions { Positives = PositiveMode.Paper, PMax = 0.25, PAug = 0.25, PMix = 0.25, PMin = 0.25 };
        var raw1 = torch.randn(1, 3, 4).requires_grad_(true);     // B = 1: no other sample at all
        var raw2 = torch.randn(1, 3, 4).requires_grad_(true);
        var labels = torch.tensor(new float[] { 1, 0, 1 }, [1, 3]);
        var loss = AunceLoss.Compute(F.normalize(raw1, 2, -1), F.normalize(raw2, 2, -1), labels,
            [PositiveType.Max, PositiveType.Min, PositiveType.Mix], options);
        loss.backward();
        Assert.True(float.IsFinite(loss.item<float>()));
        Assert.True(raw1.grad!.isfinite().all().item<bool>());
    }

    [Fact]
    public void Draws_follow_the_simplex_thresholds()
    {
        var o = new AunceLossOptions { Positives = PositiveMode.Paper, PMax = 0.1, PMix = 0.5, PAug = 0.3, PMin = 0.1 };
        Assert.Equal(PositiveType.Max, o.TypeFor(0.05));
        Assert.Equal(PositiveType.Mix, o.TypeFor(0.59));
        Assert.Equal(PositiveType.Aug, o.TypeFor(0.89));
        Assert.Equal(PositiveType.Min, o.TypeFor(0.95));
        var reference = new AunceLossOptions();   // the reference's 0.2 / 0.8 thresholds
        Assert.Equal(PositiveType.Max, reference.TypeFor(0.1999));
        Assert.Equal(PositiveType.Mix, reference.TypeFor(0.2));
        Assert.Equal(PositiveType.Aug, reference.TypeFor(0.8));
        Assert.Equal(PositiveType.Aug, reference.TypeFor(0.9999));
    }

    [Theory]
    [InlineData(0.0, 1.2, 0.8, 0.2, 0.2, 0.6, 0.0, "temperature")]
    [InlineData(0.5, -1, 0.8, 0.2, 0.2, 0.6, 0.0, "lambda_min")]
    [InlineData(0.5, 1.2, 0.8, 0.2, 0.2, 0.5, 0.0, "sum to 1")]
    [InlineData(0.5, 1.2, 0.8, 0.2, 0.2, 0.5, 0.1, "p_min must be 0")]
    public void Invalid_parameters_are_rejected_by_name(double tau, double lmin, double lmaj, double pmax, double paug, double pmix, double pmin, string message)
    {
        var o = new AunceLossOptions { Temperature = tau, LambdaMin = lmin, LambdaMaj = lmaj, PMax = pmax, PAug = paug, PMix = pmix, PMin = pmin };
        var e = Assert.Throws<ArgumentException>(o.Validate);
        Assert.Contains(message, e.Message);
    }

    private static double[] Reference(double[,,] z1, double[,,] z2, int[,] y, PositiveType[] types, AunceLossOptions o, int[] minority, double[] w)
    {
        int b = z1.GetLength(0), c = z1.GetLength(1), d = z1.GetLength(2), n = 2 * b;
        double Z(int m, int k, int i) => m < b ? z1[m, k, i] : z2[m - b, k, i];
        double S(int p, int q, int k) => Enumerable.Range(0, d).Sum(i => Z(p, k, i) * Z(q, k, i)) / o.Temperature;
        var result = new double[c];
        for (var k = 0; k < c; k++)
        {
            double sum = 0;
            for (var a = 0; a < n; a++)
            {
                var ya = y[a % b, k];
                var twin = (a + b) % n;
                var same = Enumerable.Range(0, n).Where(m => y[m % b, k] == ya).ToList();
                var others = same.Where(m => m != a && m != twin).ToList();
                double pos;
                if (o.Positives == PositiveMode.Reference)
                {
                    pos = types[k] switch
                    {
                        PositiveType.Max => same.Max(m => Math.Exp(S(a, m, k))),
                        PositiveType.Mix => same.Sum(m => Math.Exp(S(a, m, k))) / n,
                        _ => Math.Exp(S(a, twin, k)),
                    };
                }
                else
                {
                    var centroid = Enumerable.Range(0, d).Select(i => same.Sum(m => Z(m, k, i))).ToArray();
                    var norm = Math.Sqrt(centroid.Sum(v => v * v));
                    pos = types[k] switch
                    {
                        PositiveType.Max when others.Count > 0 => others.Max(m => Math.Exp(S(a, m, k))),
                        PositiveType.Min when others.Count > 0 => others.Min(m => Math.Exp(S(a, m, k))),
                        PositiveType.Mix => Math.Exp(Enumerable.Range(0, d).Sum(i => Z(a, k, i) * centroid[i] / norm) / o.Temperature),
                        _ => Math.Exp(S(a, twin, k)),
                    };
                }

                var isMinority = o.LambdaAssignment == LambdaAssignment.Label ? ya == 1 : ya == minority[k];
                var lambda = isMinority ? o.LambdaMin : o.LambdaMaj;
                var negatives = Enumerable.Range(0, n).Where(m => y[m % b, k] != ya).ToList();
                var neg = negatives.Sum(m => Math.Exp(lambda * S(a, m, k)));
                sum += negatives.Count == 0 ? 0 : -Math.Log(pos / (pos + neg));
            }

            result[k] = sum / n * (o.UseAuWeight ? w[k] : 1);
        }

        return result;
    }

    private static double[,,] Unit(Random rng, int b, int c, int d)
    {
        var z = new double[b, c, d];
        for (var i = 0; i < b; i++)
        {
            for (var k = 0; k < c; k++)
            {
                var v = Enumerable.Range(0, d).Select(_ => (rng.NextDouble() * 2) - 1).ToArray();
                var norm = Math.Sqrt(v.Sum(x => x * x));
                for (var j = 0; j < d; j++)
                {
                    z[i, k, j] = (float)(v[j] / norm);
                }
            }
        }

        return z;
    }

    private static Tensor ToTensor(double[,,] z, int b, int c, int d) => torch.tensor(z.Cast<double>().Select(v => (float)v).ToArray(), [b, c, d]);

    private static IEnumerable<int> Flatten(int[,] y) => y.Cast<int>();
}
