using System.Globalization;
using AunceSearch.Contracts;
using AunceSearch.Coordination;
using Spectre.Console;

namespace AunceSearch.Cli;

/// <summary>The final table of a sweep.</summary>
public static class Leaderboard
{
    public static void Write(TextWriter w, SweepDefinition spec, SweepStatus status)
    {
        var sign = spec.Search.Direction == Model.Direction.Maximize ? -1 : 1;
        var rows = status.Trials.OrderBy(t => t.LastValue is null ? 1 : 0).ThenBy(t => sign * (t.LastValue ?? 0)).ToList();
        var parameters = spec.Search.Space.ToSpace().ParameterNames.ToList();
        w.WriteLine($"{"rank",4} {"trial",5} {"state",-9} {"epochs",6} {status.Metric,8} {"acc",7}  {string.Join("  ", parameters.Select(p => $"{p,10}"))}");
        var rank = 0;
        foreach (var t in rows)
        {
            rank++;
            var values = parameters.Select(p => t.Hyperparameters.TryGetValue(p, out var v) &&
                                                double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                ? d.ToString("G4", CultureInfo.InvariantCulture).PadLeft(10)
                : "-".PadLeft(10));
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{rank,4} {t.Trial,5} {t.State.ToString().ToLowerInvariant(),-9} {t.LastEpoch,6} {(t.LastValue is { } v2 ? v2.ToString("0.0000", CultureInfo.InvariantCulture) : "-"),8} {(t.LastMeanAccuracy is { } a ? a.ToString("0.0000", CultureInfo.InvariantCulture) : "-"),7}  {string.Join("  ", values)}"));
        }

        var withFolds = rows.FirstOrDefault(t => t.LastFolds.Length > 0 && t.LastFolds[0].AllActiveF1PerAu.Length > 0);
        if (withFolds is not null)
        {
            var folds = withFolds.LastFolds;
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{"",4} {"",5} {"baseline",-9} {"",6} {folds.Average(f => f.AllActiveF1PerAu.Average()),8:0.0000} {folds.Average(f => f.MajorityAccuracyPerAu.Average()),7:0.0000}  (trivial baselines of the same test splits: f1 of predicting every AU active, accuracy of the majority class)"));
        }

        var best = status.Trials.FirstOrDefault(t => t.Trial == status.BestTrial);
        if (best is { LastFolds.Length: > 0 })
        {
            AuTable.Write(w, [.. best.LastFolds.Select(f => new FoldAuResult(f.AuNames, f.F1PerAu, f.AccuracyPerAu, f.AllActiveF1PerAu, f.MajorityAccuracyPerAu))],
                $"best trial {best.Trial} at epoch {best.LastEpoch}: per-AU results on the test splits beside their trivial baselines");
        }
    }
}
