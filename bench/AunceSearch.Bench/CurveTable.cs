using System.Globalization;

namespace AunceSearch.Bench;

/// <summary>
/// The learning-curve table: fold-mean F1 per configuration and epoch, from real AUNCE training runs
/// (bench/search-quality/data/curves.csv: trial, lr, temperature, lambda_min, lambda_maj, fold, epoch, f1).
/// </summary>
public sealed class CurveTable
{
    public static readonly string[] Parameters = ["lr", "temperature", "lambda_min", "lambda_maj"];

    private CurveTable(Dictionary<string, double[]> curves, Dictionary<string, string[]> values, int epochs)
    {
        Curves = curves;
        Values = values;
        Epochs = epochs;
    }

    /// <summary>Configuration key ("lr|temperature|lambda_min|lambda_maj" as written in the table) → fold-mean F1 per epoch (index 0 = epoch 1).</summary>
    public Dictionary<string, double[]> Curves { get; }

    /// <summary>Each parameter's distinct grid values, as strings.</summary>
    public Dictionary<string, string[]> Values { get; }

    public int Epochs { get; }

    /// <summary>Grid points whose curve was imputed from neighbours.</summary>
    public int Imputed { get; private init; }

    public double Optimum => Curves.Values.Max(c => c[^1]);

    public double Worst => Curves.Values.Min(c => c[^1]);

    public static string Key(IReadOnlyDictionary<string, string> config) => string.Join("|", Parameters.Select(p => config[p]));

    public static CurveTable Load(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        int Col(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i : throw new FormatException($"{path}: no column '{name}'");
        var sums = new Dictionary<string, SortedDictionary<int, List<double>>>();
        var values = Parameters.ToDictionary(p => p, _ => new SortedSet<string>(StringComparer.Ordinal));
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var f = line.Split(',');
            var key = string.Join("|", Parameters.Select(p => f[Col(p)]));
            foreach (var p in Parameters)
            {
                values[p].Add(f[Col(p)]);
            }

            var epoch = int.Parse(f[Col("epoch")], CultureInfo.InvariantCulture);
            var byEpoch = sums.TryGetValue(key, out var e) ? e : sums[key] = [];
            (byEpoch.TryGetValue(epoch, out var l) ? l : byEpoch[epoch] = []).Add(double.Parse(f[Col("f1")], CultureInfo.InvariantCulture));
        }

        // Only configurations whose every epoch was trained on every fold (a failed fold leaves a partial curve).
        var epochs = sums.Values.Max(s => s.Count);
        var folds = sums.Values.Max(s => s.Values.Max(l => l.Count));
        var curves = sums.Where(kv => kv.Value.Count == epochs && kv.Value.Values.All(l => l.Count == folds))
            .ToDictionary(kv => kv.Key, kv => kv.Value.Select(e => e.Value.Average()).ToArray());
        // Grid points without a complete curve (failed runs) get the mean curve of their grid neighbours (one parameter
        // different), the same rule as optuna_bench.py, so that every sampled configuration has a curve.
        var grid = Parameters.Aggregate(new List<string[]> { Array.Empty<string>() },
            (acc, p) => [.. acc.SelectMany(prefix => values[p].Select(v => prefix.Append(v).ToArray()))]);
        var imputed = new Dictionary<string, double[]>();
        foreach (var point in grid)
        {
            var key = string.Join("|", point);
            if (curves.ContainsKey(key))
            {
                continue;
            }

            var neighbours = curves.Where(kv => kv.Key.Split('|').Zip(point).Count(z => z.First != z.Second) == 1).Select(kv => kv.Value).ToList();
            imputed[key] = [.. Enumerable.Range(0, epochs).Select(e => neighbours.Average(c => c[e]))];
        }

        foreach (var (k, v) in imputed)
        {
            curves[k] = v;
        }

        return new CurveTable(curves, values.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), epochs) { Imputed = imputed.Count };
    }
}
