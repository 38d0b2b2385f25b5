using System.Globalization;
using System.Text.Json;

namespace AunceSearch.Bench;

/// <summary>
/// A cheap parametric surrogate of the table: the final F1 as a quadratic in (log10 lr, log10 temperature, λ_min, λ_maj)
/// fitted by least squares, times the table's mean learning-curve shape (value at epoch t / value at the last epoch).
/// Continuous, deterministic, and written to JSON so that Optuna evaluates exactly the same function.
/// </summary>
public sealed record Surrogate(double[] Coefficients, double[] Shape, double[] Low, double[] High)
{
    public static readonly string[] Parameters = CurveTable.Parameters;

    public static double[] Features(double[] x)
    {
        var f = new List<double> { 1 };
        f.AddRange(x);
        for (var i = 0; i < x.Length; i++)
        {
            for (var j = i; j < x.Length; j++)
            {
                f.Add(x[i] * x[j]);
            }
        }

        return [.. f];
    }

    /// <summary>(log10 lr, log10 τ, λ_min, λ_maj) from a configuration.</summary>
    public static double[] Encode(IReadOnlyDictionary<string, string> c)
    {
        double D(string k) => double.Parse(c[k], CultureInfo.InvariantCulture);
        return [Math.Log10(D("lr")), Math.Log10(D("temperature")), D("lambda_min"), D("lambda_maj")];
    }

    public double Final(double[] x) => Features(x).Zip(Coefficients, (a, b) => a * b).Sum();

    public double At(double[] x, int epoch) => Final(x) * Shape[epoch - 1];

    public double Optimum()
    {
        // Dense grid search of the surrogate's maximum inside the box.
        var best = double.NegativeInfinity;
        const int n = 25;
        var x = new double[4];
        for (var a = 0; a < n; a++)
        {
            for (var b = 0; b < n; b++)
            {
                for (var c = 0; c < n; c++)
                {
                    for (var d = 0; d < n; d++)
                    {
                        x[0] = Low[0] + ((High[0] - Low[0]) * a / (n - 1));
                        x[1] = Low[1] + ((High[1] - Low[1]) * b / (n - 1));
                        x[2] = Low[2] + ((High[2] - Low[2]) * c / (n - 1));
                        x[3] = Low[3] + ((High[3] - Low[3]) * d / (n - 1));
                        best = Math.Max(best, Final(x));
                    }
                }
            }
        }

        return best;
    }

    public static Surrogate Fit(CurveTable table)
    {
        var rows = table.Curves.Select(kv =>
        {
            var parts = kv.Key.Split('|');
            var config = Parameters.Select((p, i) => (p, parts[i])).ToDictionary(t => t.p, t => t.Item2);
            return (X: Encode(config), Y: kv.Value[^1], Curve: kv.Value);
        }).ToList();
        var k = Features(rows[0].X).Length;
        var ata = new double[k, k];
        var aty = new double[k];
        foreach (var (x, y, _) in rows)
        {
            var f = Features(x);
            for (var i = 0; i < k; i++)
            {
                aty[i] += f[i] * y;
                for (var j = 0; j < k; j++)
                {
                    ata[i, j] += f[i] * f[j];
                }
            }
        }

        for (var i = 0; i < k; i++)
        {
            ata[i, i] += 1e-6; // ridge for numerical safety
        }

        var coef = Solve(ata, aty);
        var shape = Enumerable.Range(0, table.Epochs).Select(e => rows.Average(r => r.Curve[e] / r.Curve[^1])).ToArray();
        var low = Enumerable.Range(0, 4).Select(i => rows.Min(r => r.X[i])).ToArray();
        var high = Enumerable.Range(0, 4).Select(i => rows.Max(r => r.X[i])).ToArray();
        return new Surrogate(coef, shape, low, high);
    }

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));

    private static double[] Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        var m = (double[,])a.Clone();
        var x = (double[])b.Clone();
        for (var col = 0; col < n; col++)
        {
            var pivot = Enumerable.Range(col, n - col).MaxBy(r => Math.Abs(m[r, col]));
            for (var j = 0; j < n; j++)
            {
                (m[col, j], m[pivot, j]) = (m[pivot, j], m[col, j]);
            }

            (x[col], x[pivot]) = (x[pivot], x[col]);
            for (var r = col + 1; r < n; r++)
            {
                var factor = m[r, col] / m[col, col];
                for (var j = col; j < n; j++)
                {
                    m[r, j] -= factor * m[col, j];
                }

                x[r] -= factor * x[col];
            }
        }

        for (var r = n - 1; r >= 0; r--)
        {
            for (var j = r + 1; j < n; j++)
            {
                x[r] -= m[r, j] * x[j];
            }

            x[r] /= m[r, r];
        }

        return x;
    }
}
