using System.Globalization;
using AunceSearch.Contracts;
using AunceSearch.Model;

namespace AunceSearch.Coordination;

/// <summary>
/// Read views for dashboards and the HTTP API, each sized by what it returns rather than by the sweep: an overview, a
/// sorted and filtered page of trials (the ordering is kept until the state changes, so scrolling a 100,000-trial table
/// costs a page, not a sort), one trial, a page of decisions, and a bounded set of points for parallel coordinates.
/// </summary>
public sealed partial class SweepCoordinator
{
    private (long Version, SweepOverview Overview)? _overview;

    private (long Version, ParameterPoints Points, int Max)? _points;

    private (long Version, TrialSort Sort, bool Descending, TrialState? State, double? MinValue, string? Parameter, List<TrialSummary> Rows)? _ordered;

    /// <summary>The sweep at a glance (null before it is started).</summary>
    public SweepOverview? Overview(long lastVisibleEvent)
    {
        if (_spec is null)
        {
            return null;
        }

        if (_overview is { } cached && cached.Version == _s.Inputs)
        {
            return cached.Overview with { LastEventSequence = lastVisibleEvent };
        }

        var byState = new Dictionary<TrialState, int>();
        foreach (var t in _s.Trials.Values)
        {
            byState[t.State] = byState.GetValueOrDefault(t.State) + 1;
        }

        var best = Best();
        var listing = Listing!;
        var overview = new SweepOverview
        {
            SweepId = _sweepId,
            Name = _spec.Name,
            State = _s.State,
            TotalTrials = _spec.Search.Trials,
            Started = _s.Trials.Count,
            TrialsByState = byState,
            Decisions = _s.Decisions.Count,
            BestTrial = best?.Trial,
            BestValue = best?.LastValue,
            Metric = MetricName,
            Mode = _direction == Direction.Maximize ? "max" : "min",
            Error = _s.Error,
            LastEventSequence = lastVisibleEvent,
            Folds = _spec.Folds.Length,
            Epochs = _spec.Training.Epochs,
            Scheduler = listing.Scheduler,
            Sampler = listing.Sampler,
            Parameters = [.. Axes(_spec.Search.Space)],
            Simplexes = [.. _spec.Search.Space.OfType<SimplexParameter>().Select(s =>
                new SimplexGroup(s.Name, s.Components, [.. s.Components.Where(c => !s.Fixed.ContainsKey(c))]))],
        };
        _overview = (_s.Inputs, overview);
        return overview;
    }

    /// <summary>The searched parameters as axes, in the space's order; fixed parameters and fixed simplex components are left out.</summary>
    public static IEnumerable<ParameterAxis> Axes(IEnumerable<ParameterDefinition> space)
    {
        foreach (var p in space)
        {
            switch (p)
            {
                case FloatParameter f:
                    yield return new ParameterAxis(f.Name, "float", f.Low, f.High, f.Log, []);
                    break;
                case IntParameter i:
                    yield return new ParameterAxis(i.Name, "int", i.Low, i.High, i.Log, []);
                    break;
                case CategoricalParameter c:
                    yield return new ParameterAxis(c.Name, "categorical", 0, c.Choices.Length - 1, false, c.Choices);
                    break;
                case SimplexParameter s:
                    foreach (var component in s.Components.Where(c => !s.Fixed.ContainsKey(c)))
                    {
                        yield return new ParameterAxis(component, "simplex", 0, s.Budget - s.Fixed.Values.Sum(), false, []);
                    }

                    break;
            }
        }
    }

    /// <summary>A page of trials, sorted and filtered as <paramref name="query"/> asks (an invalid query is an <see cref="ArgumentException"/>).</summary>
    public TrialPage Trials(TrialQuery query)
    {
        if (query.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(query));
        }

        var rows = Ordered(query);
        var items = rows.Skip(query.Offset).Take(query.Limit).Select(t => new TrialRow(t.Trial, t.State, t.LastEpoch, t.TargetEpoch, t.LastValue, t.LastMeanF1,
            t.LastMeanAccuracy, t.Hyperparameters, [.. Full(t).LastFolds.Select(FoldValue)], t.History, t.Error)).ToArray();
        return new TrialPage(rows.Count, query.Offset, query.Limit, items);
    }

    /// <summary>How many orderings of the trials were built (each page of a kept ordering builds none).</summary>
    internal int OrderingsBuilt { get; private set; }

    private List<TrialSummary> Ordered(TrialQuery q)
    {
        if (_ordered is { } o && o.Version == _s.Inputs && o.Sort == q.Sort && o.Descending == q.Descending && o.State == q.State && o.MinValue == q.MinValue &&
            o.Parameter == q.Parameter)
        {
            return o.Rows;
        }

        // Keys are computed once per trial (not per comparison): sorting 100,000 trials by a parameter parses 100,000 numbers.
        var categorical = q.Sort == TrialSort.Parameter ? Axes(_spec?.Search.Space ?? []).FirstOrDefault(a => a.Name == q.Parameter && a.Kind == "categorical") : null;
        var keyed = _s.Trials.Values.Where(t => (q.State is null || t.State == q.State) && (q.MinValue is null || t.LastValue >= q.MinValue))
            .Select(t => (Key: q.Sort switch
            {
                TrialSort.Value => t.LastValue ?? double.NaN,
                TrialSort.Epoch => t.LastEpoch,
                TrialSort.State => (double)t.State,
                TrialSort.Parameter => Number(t, q.Parameter!, categorical),
                _ => t.Trial,
            }, Row: t)).ToArray();
        var sign = q.Descending ? -1 : 1;
        Comparison<(double Key, TrialSummary Row)> order = (a, b) => (double.IsNaN(a.Key), double.IsNaN(b.Key)) switch
        {
            (true, false) => 1,   // no value: last, either way
            (false, true) => -1,
            _ => a.Key.CompareTo(b.Key) is var c && c != 0 && !double.IsNaN(a.Key) ? sign * c : a.Row.Trial.CompareTo(b.Row.Trial),
        };
        var sorted = true;   // trials are stored in trial order: the default ordering (and a filter on it) needs no sort
        for (var i = 1; i < keyed.Length && sorted; i++)
        {
            sorted = order(keyed[i - 1], keyed[i]) <= 0;
        }

        if (!sorted)
        {
            Array.Sort(keyed, order);
        }
        var rows = keyed.Select(k => k.Row).ToList();
        _ordered = (_s.Inputs, q.Sort, q.Descending, q.State, q.MinValue, q.Parameter, rows);
        OrderingsBuilt++;
        return rows;

        static double Number(TrialSummary t, string name, ParameterAxis? categorical) =>
            !t.Hyperparameters.TryGetValue(name, out var s) ? double.NaN
            : categorical is not null ? Array.IndexOf(categorical.Choices, s)
            : double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
    }

    /// <summary>One trial and the decisions about it, or null when the sweep has no such trial.</summary>
    public TrialDetail? Trial(int number) => _s.Trials.TryGetValue(number, out var t)
        ? new TrialDetail(Full(t), [.. _s.Decisions.Where(d => d.Trial == number)])
        : null;

    /// <summary>A page of decisions in the order they were made, optionally about one trial.</summary>
    public DecisionPage DecisionPage(int? trial, int offset, int limit)
    {
        if (offset < 0 || limit is < 1 or > TrialQuery.MaxLimit)
        {
            throw new ArgumentException(offset < 0 ? "offset: must be >= 0" : $"limit: must be between 1 and {TrialQuery.MaxLimit}");
        }

        if (trial is null)
        {
            return new DecisionPage(_s.Decisions.Count, offset, limit, [.. _s.Decisions.Skip(offset).Take(limit)]);
        }

        var about = _s.Decisions.Where(d => d.Trial == trial).ToList();
        return new DecisionPage(about.Count, offset, limit, [.. about.Skip(offset).Take(limit)]);
    }

    /// <summary>The sweep's parameter importance (<see cref="SweepImportance"/>); null before the sweep started.</summary>
    public ImportanceReport? Importance(int? epoch, double quantile, bool local) =>
        _spec is null ? null : SweepImportance.Compute(_spec, _s.Trials.Values, epoch, quantile, local);

    /// <summary>
    /// Trials with a value as points in parameter space: all of them up to <paramref name="max"/>, else the best quarter
    /// of <paramref name="max"/> and an even stride through the rest by trial number (deterministic: the same state gives
    /// the same points).
    /// </summary>
    public ParameterPoints Points(int max)
    {
        if (max < 1)
        {
            throw new ArgumentException("max: must be >= 1", nameof(max));
        }

        if (_spec is null)
        {
            return new ParameterPoints(0, 0, [], []);
        }

        if (_points is { } cached && cached.Version == _s.Inputs && cached.Max == max)
        {
            return cached.Points;
        }

        var axes = Axes(_spec.Search.Space).ToArray();
        var valued = _s.Trials.Values.Where(t => t.LastValue is not null).OrderBy(t => t.Trial).ToList();
        IEnumerable<TrialSummary> shown = valued;
        if (valued.Count > max)
        {
            var sign = _direction == Direction.Maximize ? -1 : 1;
            var best = valued.OrderBy(t => sign * t.LastValue!.Value).ThenBy(t => t.Trial).Take(max / 4).ToList();
            var taken = best.Select(t => t.Trial).ToHashSet();
            var rest = valued.Where(t => !taken.Contains(t.Trial)).ToList();
            var want = max - best.Count;
            shown = best.Concat(Enumerable.Range(0, want).Select(i => rest[(int)((long)i * rest.Count / want)])).OrderBy(t => t.Trial);
        }

        var points = shown.Select(t => new ParameterPoint(t.Trial, t.State, t.LastValue!.Value, [.. axes.Select(a => Coordinate(a, t.Hyperparameters))])).ToArray();
        var result = new ParameterPoints(valued.Count, points.Length, [.. axes.Select(a => a.Name)], points);
        _points = (_s.Inputs, result, max);
        return result;

        static double Coordinate(ParameterAxis axis, Dictionary<string, string> config) =>
            !config.TryGetValue(axis.Name, out var s) ? double.NaN
            : axis.Kind == "categorical" ? Array.IndexOf(axis.Choices, s)
            : double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
    }
}
