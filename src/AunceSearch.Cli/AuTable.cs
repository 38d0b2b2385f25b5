using System.Globalization;

namespace AunceSearch.Cli;

/// <summary>One fold's per-AU results on its test split, with that split's trivial baselines.</summary>
public sealed record FoldAuResult(IReadOnlyList<string> AuNames, double[] F1, double[] Accuracy, double[] AllActiveF1, double[] MajorityAccuracy);

/// <summary>
/// The per-AU table people compare AU detectors by: the model's F1 and accuracy next to the trivial baselines of the same
/// test splits (F1 of predicting every AU active; accuracy of always predicting the majority class), ×100, mean ± standard
/// deviation over folds, and a verdict line. A model that does not beat the all-active F1 is called what it is.
/// </summary>
public static class AuTable
{
    public static void Write(TextWriter w, IReadOnlyList<FoldAuResult> folds, string title)
    {
        if (folds.Count == 0)
        {
            return;
        }

        var names = folds[0].AuNames;
        var withBaseline = folds.All(f => f.AllActiveF1.Length == names.Count && f.MajorityAccuracy.Length == names.Count);
        w.WriteLine();
        w.WriteLine($"{title} ({folds.Count} fold(s); ×100, mean ± std over folds)");
        w.WriteLine(withBaseline
            ? $"{"AU",-8} {"F1",13} {"all-active F1",15} {"accuracy",13} {"majority acc.",15}"
            : $"{"AU",-8} {"F1",13} {"accuracy",13}");
        for (var k = 0; k < names.Count; k++)
        {
            var i = k;
            w.WriteLine(Row(names[k], folds, f => f.F1[i], f => f.AllActiveF1[i], f => f.Accuracy[i], f => f.MajorityAccuracy[i], withBaseline));
        }

        w.WriteLine(Row("mean", folds, f => f.F1.Average(), f => f.AllActiveF1.Average(), f => f.Accuracy.Average(), f => f.MajorityAccuracy.Average(), withBaseline));
        if (withBaseline)
        {
            w.WriteLine(Verdict(folds));
        }
    }

    /// <summary>"F1 beats the all-active baseline by +x.x points" or a warning that it does not.</summary>
    public static string Verdict(IReadOnlyList<FoldAuResult> folds)
    {
        var model = folds.Average(f => f.F1.Average()) * 100;
        var baseline = folds.Average(f => f.AllActiveF1.Average()) * 100;
        var beaten = Enumerable.Range(0, folds[0].AuNames.Count).Count(k => folds.Average(f => f.F1[k]) > folds.Average(f => f.AllActiveF1[k]));
        var delta = model - baseline;
        return delta > 0
            ? FormattableString.Invariant($"mean F1 {model:0.0} beats the all-active baseline {baseline:0.0} by +{delta:0.0} points ({beaten} of {folds[0].AuNames.Count} AUs above it)")
            : FormattableString.Invariant($"warning: mean F1 {model:0.0} does not beat the all-active baseline {baseline:0.0} ({delta:0.0} points; {beaten} of {folds[0].AuNames.Count} AUs above it): this model has not learned, not a result");
    }

    private static string Row(string name, IReadOnlyList<FoldAuResult> folds, Func<FoldAuResult, double> f1, Func<FoldAuResult, double> allActive,
        Func<FoldAuResult, double> accuracy, Func<FoldAuResult, double> majority, bool withBaseline) =>
        withBaseline
            ? $"{name,-8} {Cell(folds.Select(f1)),13} {Cell(folds.Select(allActive)),15} {Cell(folds.Select(accuracy)),13} {Cell(folds.Select(majority)),15}"
            : $"{name,-8} {Cell(folds.Select(f1)),13} {Cell(folds.Select(accuracy)),13}";

    private static string Cell(IEnumerable<double> values)
    {
        var v = values.Select(x => x * 100).ToArray();
        var mean = v.Average();
        var std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return string.Create(CultureInfo.InvariantCulture, $"{mean,5:0.0} ± {std,4:0.0}");
    }
}
