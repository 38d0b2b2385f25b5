using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace AunceSearch.Bench;

/// <summary>One LCBench configuration in the surrogate's raw units (see bench/data/yahpo-lcbench/README.md).</summary>
public sealed record LcBenchConfig(double BatchSize, double LearningRate, double Momentum, double WeightDecay, double NumLayers, double MaxUnits, double MaxDropout);

/// <summary>
/// YAHPO Gym's LCBench surrogate evaluated with ONNX Runtime: val_accuracy (percent) of a configuration on an OpenML
/// task at epochs 1–52. One session, single-threaded (the benchmark runs its seeds on the other core); batches of
/// configurations × epochs in one run.
/// </summary>
public sealed class LcBench : IDisposable
{
    public const string ModelSha256 = "b45c0d85ae39abf8820c8bea5ac82f415763afcbaf3b725e36af452b09cb6dcd";
    public const int Epochs = 52;

    /// <summary>YAHPO's single-objective suite v1.0 (167168, 189873, 189906) and five more tasks.</summary>
    public static readonly int[] DefaultInstances = [167168, 189873, 189906, 3945, 7593, 34539, 126025, 126026];

    private readonly InferenceSession _session;
    private readonly Dictionary<string, int> _encoding;

    public LcBench(string directory)
    {
        var model = Path.Combine(directory, "model.onnx");
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(model)));
        if (sha != ModelSha256)
        {
            throw new InvalidDataException($"{model}: SHA-256 {sha}, expected {ModelSha256} (YAHPO Gym lcbench 1.0.2)");
        }

        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _session = new InferenceSession(model, options);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "encoding.json")));
        _encoding = doc.RootElement.GetProperty("OpenML_task_id").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
    }

    /// <summary>The task ids the surrogate knows.</summary>
    public IEnumerable<int> Instances => _encoding.Keys.Where(k => int.TryParse(k, out _)).Select(int.Parse).Order();

    /// <summary>Outputs [configs × epochs, 6] for each configuration at each of <paramref name="epochs"/> (row = config·|epochs| + epoch index).</summary>
    public float[,] Evaluate(int instance, IReadOnlyList<LcBenchConfig> configs, IReadOnlyList<int> epochs)
    {
        if (!_encoding.TryGetValue(instance.ToString(System.Globalization.CultureInfo.InvariantCulture), out var code))
        {
            throw new ArgumentException($"instance {instance}: not an LCBench task of the surrogate (known: {string.Join(", ", Instances)})", nameof(instance));
        }

        var n = configs.Count * epochs.Count;
        var cat = new DenseTensor<int>([n, 1]);
        var cont = new DenseTensor<float>([n, 8]);
        var row = 0;
        foreach (var c in configs)
        {
            foreach (var e in epochs)
            {
                cat[row, 0] = code;
                float[] x = [e, (float)c.BatchSize, (float)c.LearningRate, (float)c.Momentum, (float)c.WeightDecay, (float)c.NumLayers, (float)c.MaxUnits, (float)c.MaxDropout];
                for (var j = 0; j < 8; j++)
                {
                    cont[row, j] = x[j];
                }

                row++;
            }
        }

        using var results = _session.Run([NamedOnnxValue.CreateFromTensor("x_cat", cat), NamedOnnxValue.CreateFromTensor("x_cont", cont)]);
        var output = results.First().AsTensor<float>();
        var values = new float[n, 6];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < 6; j++)
            {
                values[i, j] = output[i, j];
            }
        }

        return values;
    }

    /// <summary>val_accuracy (percent) at epochs 1…52 for each configuration.</summary>
    public double[][] Curves(int instance, IReadOnlyList<LcBenchConfig> configs)
    {
        var epochs = Enumerable.Range(1, Epochs).ToArray();
        var v = Evaluate(instance, configs, epochs);
        return [.. configs.Select((_, i) => epochs.Select((_, e) => (double)v[(i * Epochs) + e, 1]).ToArray())];
    }

    /// <summary>
    /// The checks before any benchmark: the published reference value (task 167168 at YAHPO's default configuration),
    /// determinism, every output in its range, and a configuration's value the same alone and within a batch.
    /// Returns the lines to print; throws on a failed check.
    /// </summary>
    public IReadOnlyList<string> Check()
    {
        var lines = new List<string>();
        var reference = new LcBenchConfig(91, 0.0031622777, 0.5, 0.05, 3, 256, 0.5);
        var r = Evaluate(167168, [reference], [1, 26, 52]);
        (int Epoch, double Acc, double Time)[] expected = [(1, 23.35, 7.40), (26, 43.72, 64.58), (52, 45.23, 95.52)];
        for (var i = 0; i < 3; i++)
        {
            if (Math.Abs(r[i, 1] - expected[i].Acc) > 0.01 || Math.Abs(r[i, 0] - expected[i].Time) > 0.01)
            {
                throw new InvalidDataException($"surrogate check: task 167168 epoch {expected[i].Epoch}: val_accuracy {r[i, 1]:0.00} time {r[i, 0]:0.00}, published {expected[i].Acc} and {expected[i].Time}");
            }
        }

        lines.Add($"surrogate check: task 167168 at YAHPO's default gives val_accuracy {r[0, 1]:0.00} / {r[1, 1]:0.00} / {r[2, 1]:0.00} at epochs 1 / 26 / 52 (published 23.35 / 43.72 / 45.23): ok");
        var random = new Search.DeterministicRandom(42);
        var configs = Enumerable.Range(0, 200).Select(_ => Sample(random)).ToList();
        foreach (var instance in DefaultInstances)
        {
            var a = Curves(instance, configs);
            var b = Curves(instance, configs);
            var alone = Curves(instance, [configs[137]])[0];
            for (var i = 0; i < configs.Count; i++)
            {
                if (!a[i].SequenceEqual(b[i]))
                {
                    throw new InvalidDataException($"surrogate check: task {instance}: two evaluations of configuration {i} differ");
                }

                if (a[i].Any(v => !double.IsFinite(v) || v < 0 || v > 100))
                {
                    throw new InvalidDataException($"surrogate check: task {instance}: val_accuracy outside [0, 100] for configuration {i}");
                }
            }

            var batchDiff = a[137].Zip(alone, (x, y) => Math.Abs(x - y)).Max();
            if (batchDiff > 1e-3)
            {
                throw new InvalidDataException($"surrogate check: task {instance}: a configuration alone and in a batch differ by {batchDiff}");
            }

            lines.Add($"surrogate check: task {instance}: 200 random configurations deterministic, val_accuracy in [{a.Min(c => c.Min()):0.0}, {a.Max(c => c.Max()):0.0}] %, alone vs batch max |diff| {batchDiff:0.0e+0}: ok");
        }

        return lines;
    }

    /// <summary>A configuration drawn uniformly from the space (log scales as config_space.json).</summary>
    public static LcBenchConfig Sample(Search.DeterministicRandom r)
    {
        double Log(double lo, double hi) => Math.Exp(Math.Log(lo) + (r.NextDouble() * (Math.Log(hi) - Math.Log(lo))));
        return new LcBenchConfig(Math.Round(Log(16, 512)), Log(1e-4, 1e-1), 0.1 + (r.NextDouble() * 0.89), 1e-5 + (r.NextDouble() * (0.1 - 1e-5)),
            1 + Math.Floor(r.NextDouble() * 5), Math.Round(Log(64, 1024)), r.NextDouble());
    }

    public void Dispose() => _session.Dispose();
}
