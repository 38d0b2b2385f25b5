using AunceSearch.Contracts;
using AunceSearch.Search.Importance;

namespace AunceSearch.Coordination;

/// <summary>
/// A sweep's parameter importance (PED-ANOVA) from its trials: the coordinator's view for the API and the dashboard,
/// and <c>aunce sweep importance</c> on a sweep's record, through the same function.
/// </summary>
public static class SweepImportance
{
    /// <summary>The default top fraction (Optuna's PED-ANOVA default).</summary>
    public const double DefaultQuantile = 0.1;

    /// <param name="epoch">Compare every trial's value at this epoch (a rung); null: completed trials' final values.</param>
    public static ImportanceReport Compute(SweepDefinition definition, IEnumerable<TrialSummary> trials, int? epoch = null, double quantile = DefaultQuantile, bool local = true)
    {
        if (epoch is < 1 || epoch > definition.Training.Epochs)
        {
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"epoch: must be between 1 and the sweep's {definition.Training.Epochs} epochs");
        }

        if (quantile is <= 0 or > 1 || double.IsNaN(quantile))
        {
            throw new ArgumentOutOfRangeException(nameof(quantile), quantile, "quantile: must be in (0, 1]");
        }

        var points = new List<(IReadOnlyDictionary<string, string>, double)>();
        foreach (var t in trials)
        {
            double? value = epoch is { } e
                ? (t.History.Length >= e ? t.History[e - 1] : null)
                : (t.State == TrialState.Completed ? t.LastValue : null);
            if (value is { } v && double.IsFinite(v))
            {
                points.Add((t.Hyperparameters, v));
            }
        }

        var ranking = PedAnova.Evaluate(definition.Search.Space.ToSpace(), points, definition.Search.Direction, quantile, local);
        var top = (int)Math.Ceiling(quantile * points.Count);
        var note = ranking.Count > 0 ? null
            : $"{points.Count} trial(s) with a value {(epoch is { } at ? $"at epoch {at}" : "(completed)")}: the top {quantile:0.##} holds {top}, and PED-ANOVA needs at least 2";
        return new ImportanceReport(PedAnova.MethodName, epoch, quantile, local, points.Count, top,
            [.. ranking.Select(r => new ImportanceRow(r.Parameter, r.Share, r.Divergence))], note);
    }
}
