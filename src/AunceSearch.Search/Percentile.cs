namespace AunceSearch.Search;

/// <summary>Percentiles as NumPy computes them.</summary>
public static class Percentile
{
    /// <summary>NumPy's default ("linear") percentile of <paramref name="values"/> at <paramref name="q"/> ∈ [0, 100].</summary>
    public static double Linear(IReadOnlyCollection<double> values, double q) =>
        values.Count == 0 ? double.NaN : LinearSorted([.. values.OrderBy(v => v)], q);

    /// <summary>The same on values already sorted ascending (O(1)).</summary>
    public static double LinearSorted(IReadOnlyList<double> x, double q)
    {
        if (x.Count == 0)
        {
            return double.NaN;
        }

        var h = (x.Count - 1) * (q / 100.0);
        if (h >= x.Count - 1)
        {
            return x[^1];
        }

        var i = (int)Math.Floor(h);
        var t = h - i;
        var a = x[i];
        var b = x[i + 1];
        var d = b - a;
        return t < 0.5 ? a + (d * t) : b - (d * (1 - t));
    }
}
