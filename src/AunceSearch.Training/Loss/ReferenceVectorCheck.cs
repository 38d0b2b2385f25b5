using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AunceSearch.Training.Loss;

/// <summary>The comparison of one reference case with the product's loss.</summary>
public sealed record ReferenceCaseResult(string Name, double Loss, double ExpectedLoss, double RelativeLossError, double MaxGradZError, double MaxGradRawError)
{
    public bool Passes(double lossTolerance = 1e-5, double gradTolerance = 1e-6) =>
        RelativeLossError <= lossTolerance && MaxGradZError <= gradTolerance && MaxGradRawError <= gradTolerance;
}

/// <summary>
/// Evaluates the AUNCE loss on files in the schema of <c>tests/fixtures/aunce/reference-vectors.json</c>: top-level
/// <c>inputs</c>; <c>cases[]</c> and <c>tiny_cases[]</c>, each with <c>tau</c>, <c>lambda_occ</c>, <c>lambda_unocc</c>,
/// <c>pos_type_code</c>, <c>use_au_weight</c>, <c>au_weight</c>, <c>loss</c> and the four gradient arrays; a case may
/// carry its own <c>labels_bc</c>/<c>raw_v1_bcd</c>/<c>raw_v2_bcd</c>. Computes in float32, as training does.
/// </summary>
public static class ReferenceVectorCheck
{
    public static IReadOnlyList<ReferenceCaseResult> Run(string path)
    {
        JsonNode root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty JSON");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed JSON: {e.Message}");
        }

        var inputs = root["inputs"];
        var cases = new List<JsonNode>();
        foreach (var key in new[] { "cases", "tiny_cases" })
        {
            if (root[key] is JsonArray arr)
            {
                cases.AddRange(arr.Where(c => c is not null)!);
            }
        }

        if (cases.Count == 0)
        {
            throw new InvalidDataException($"{path}: no cases[] or tiny_cases[]");
        }

        var results = cases.Select((c, i) => RunCase(c, inputs, $"{path}: case {i}")).ToList();
        if (root["wce_example"] is JsonObject wce)
        {
            results.Add(RunWce(wce));
        }

        if (root["metric_example"] is JsonObject metric)
        {
            results.Add(RunMetric(metric));
        }

        return results;
    }

    /// <summary>The weighted cross-entropy example: probs (B, 2, C), labels (B, C), weights (C) → loss.</summary>
    private static ReferenceCaseResult RunWce(JsonObject e)
    {
        using var scope = NewDisposeScope();
        var loss = WeightedCrossEntropy.Compute(Tensor3Or2(e["probs_b2c"]!), Tensor3Or2(e["labels_bc"]!),
            torch.tensor(e["weight_c"]!.AsArray().Select(x => x!.GetValue<float>()).ToArray())).item<float>();
        var expected = e["loss"]!.GetValue<double>();
        return new ReferenceCaseResult("wce_example", loss, expected, Math.Abs(loss - expected) / Math.Max(Math.Abs(expected), 1e-12), 0, 0);
    }

    /// <summary>The metric example: per-AU F1 and accuracy from P(active) and labels; "loss" is the mean F1.</summary>
    private static ReferenceCaseResult RunMetric(JsonObject e)
    {
        float[,] Grid(JsonNode n)
        {
            var rows = n.AsArray();
            var g = new float[rows.Count, rows[0]!.AsArray().Count];
            for (var i = 0; i < rows.Count; i++)
            {
                for (var j = 0; j < g.GetLength(1); j++)
                {
                    g[i, j] = (float)rows[i]![j]!.GetValue<double>();
                }
            }

            return g;
        }

        var p = Grid(e["p_active_bc"]!);
        var m = Evaluation.AuMetrics.Compute([.. Enumerable.Range(0, p.GetLength(1)).Select(i => $"AU{i}")], p, Grid(e["labels_bc"]!));
        var f1 = e["f1_per_au"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
        var acc = e["acc_per_au"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
        var maxDiff = f1.Zip(m.F1, (a, b) => Math.Abs(a - b)).Concat(acc.Zip(m.Accuracy, (a, b) => Math.Abs(a - b))).Max();
        var expected = e["mean_f1"]!.GetValue<double>();
        return new ReferenceCaseResult("metric_example", m.MeanF1, expected, Math.Abs(m.MeanF1 - expected) / Math.Max(Math.Abs(expected), 1e-12), maxDiff, 0);
    }

    private static ReferenceCaseResult RunCase(JsonNode c, JsonNode? inputs, string where)
    {
        using var scope = NewDisposeScope();
        var name = c["name"]?.GetValue<string>() ?? where;
        JsonNode Field(string key) => c[key] ?? inputs?[key] ?? throw new InvalidDataException($"{where} ({name}): missing '{key}'");
        var labels = Tensor3Or2(Field("labels_bc"));
        var raw1 = Tensor3Or2(Field("raw_v1_bcd"));
        var raw2 = Tensor3Or2(Field("raw_v2_bcd"));
        var types = c["pos_type_code"]!.AsArray().Select(x => (PositiveType)x!.GetValue<int>()).ToArray();
        var options = new AunceLossOptions
        {
            Temperature = c["tau"]!.GetValue<double>(),
            LambdaMin = c["lambda_occ"]!.GetValue<double>(),
            LambdaMaj = c["lambda_unocc"]!.GetValue<double>(),
            UseAuWeight = c["use_au_weight"]?.GetValue<bool>() ?? false,
        };
        Tensor? weight = c["au_weight"] is JsonArray w ? torch.tensor(w.Select(x => x!.GetValue<float>()).ToArray()) : null;
        var expected = c["loss"]!.GetValue<double>();

        // Gradient w.r.t. z as the loss's leaf input.
        var z1 = F.normalize(raw1, 2, -1, 1e-12).detach().requires_grad_();
        var z2 = F.normalize(raw2, 2, -1, 1e-12).detach().requires_grad_();
        var loss = AunceLoss.Compute(z1, z2, labels, types, options, weight);
        loss.backward();
        var gradZ = Math.Max(MaxAbsDiff(z1.grad!, Field("grad_z_v1_bcd")), MaxAbsDiff(z2.grad!, Field("grad_z_v2_bcd")));

        // Gradient w.r.t. the raw features through F.normalize.
        var r1 = raw1.detach().requires_grad_();
        var r2 = raw2.detach().requires_grad_();
        var lossRaw = AunceLoss.Compute(F.normalize(r1, 2, -1, 1e-12), F.normalize(r2, 2, -1, 1e-12), labels, types, options, weight);
        lossRaw.backward();
        var gradRaw = Math.Max(MaxAbsDiff(r1.grad!, Field("grad_raw_v1_bcd")), MaxAbsDiff(r2.grad!, Field("grad_raw_v2_bcd")));

        var value = loss.item<float>();
        var rel = Math.Abs(value - expected) / Math.Max(Math.Abs(expected), 1e-12);
        return new ReferenceCaseResult(name, value, expected, rel, gradZ, gradRaw);
    }

    private static double MaxAbsDiff(Tensor actual, JsonNode expected)
    {
        using var e = Tensor3Or2(expected);
        return actual.sub(e).abs().max().item<float>();
    }

    /// <summary>A nested JSON array of numbers (2-D or 3-D) as a float32 tensor.</summary>
    internal static Tensor Tensor3Or2(JsonNode node)
    {
        var values = new List<float>();
        var shape = new List<long>();
        void Walk(JsonNode n, int depth)
        {
            if (n is JsonArray a)
            {
                if (shape.Count == depth)
                {
                    shape.Add(a.Count);
                }

                foreach (var x in a)
                {
                    Walk(x!, depth + 1);
                }
            }
            else
            {
                values.Add((float)n.GetValue<double>());
            }
        }

        Walk(node, 0);
        return torch.tensor(values.ToArray(), [.. shape]);
    }
}
