namespace AunceSearch.Contracts;

/// <summary>
/// A sweep at a glance, O(1) in the number of trials to send: what dashboards and the HTTP API show of it without its
/// trial list (a status of 100,000 trials is tens of megabytes).
/// </summary>
[GenerateSerializer, Immutable, Alias("aunce.sweep-overview")]
public sealed record SweepOverview
{
    [Id(0)] public required string SweepId { get; init; }

    [Id(1)] public required string Name { get; init; }

    [Id(2)] public SweepState State { get; init; }

    [Id(3)] public int TotalTrials { get; init; }

    /// <summary>Trials started so far.</summary>
    [Id(4)] public int Started { get; init; }

    [Id(5)] public Dictionary<TrialState, int> TrialsByState { get; init; } = [];

    [Id(6)] public int Decisions { get; init; }

    [Id(7)] public int? BestTrial { get; init; }

    [Id(8)] public double? BestValue { get; init; }

    [Id(9)] public string Metric { get; init; } = "f1";

    /// <summary>"max" or "min".</summary>
    [Id(10)] public string Mode { get; init; } = "max";

    [Id(11)] public string? Error { get; init; }

    [Id(12)] public long LastEventSequence { get; init; }

    [Id(13)] public int Folds { get; init; }

    [Id(14)] public int Epochs { get; init; }

    [Id(15)] public string Scheduler { get; init; } = "";

    [Id(16)] public string Sampler { get; init; } = "";

    /// <summary>The searched parameters in the space's order (fixed ones left out): the trial table's and parallel coordinates' columns.</summary>
    [Id(17)] public ParameterAxis[] Parameters { get; init; } = [];

    /// <summary>Simplex groups (e.g. the positive-pair probabilities): their components, shown together on a simplex.</summary>
    [Id(18)] public SimplexGroup[] Simplexes { get; init; } = [];
}

/// <summary>A searched parameter as an axis: its range (log or linear) or its categories.</summary>
[GenerateSerializer, Immutable, Alias("aunce.parameter-axis")]
public sealed record ParameterAxis(
    [property: Id(0)] string Name,
    [property: Id(1)] string Kind,
    [property: Id(2)] double Low,
    [property: Id(3)] double High,
    [property: Id(4)] bool Log,
    [property: Id(5)] string[] Choices);

[GenerateSerializer, Immutable, Alias("aunce.simplex-group")]
public sealed record SimplexGroup(
    [property: Id(0)] string Name,
    [property: Id(1)] string[] Components,
    [property: Id(2)] string[] Free);

/// <summary>How the trial table is ordered.</summary>
public enum TrialSort
{
    Trial,
    Value,
    Epoch,
    State,

    /// <summary>By <see cref="TrialQuery.Parameter"/> (numerically when both values are numbers).</summary>
    Parameter,
}

/// <summary>A page of the trial table: sorted, filtered and cut on the server.</summary>
[GenerateSerializer, Immutable, Alias("aunce.trial-query")]
public sealed record TrialQuery
{
    [Id(0)] public int Offset { get; init; }

    [Id(1)] public int Limit { get; init; } = 100;

    [Id(2)] public TrialSort Sort { get; init; }

    [Id(3)] public bool Descending { get; init; }

    /// <summary>Only trials in this state.</summary>
    [Id(4)] public TrialState? State { get; init; }

    /// <summary>Only trials whose last fold-mean value is at least this.</summary>
    [Id(5)] public double? MinValue { get; init; }

    /// <summary>The parameter to sort by, with <see cref="TrialSort.Parameter"/>.</summary>
    [Id(6)] public string? Parameter { get; init; }

    /// <summary>The largest page a query may ask for.</summary>
    public const int MaxLimit = 1000;

    /// <summary>What is wrong with a page's offset and limit, of trials or decisions (unset: the view's default), or null.</summary>
    public static string? PagingProblem(int? offset, int? limit) =>
        offset < 0 ? "offset: must be >= 0"
        : limit is < 1 or > MaxLimit ? $"limit: must be between 1 and {MaxLimit}"
        : null;

    /// <summary>What is wrong with this query (named as the HTTP API's parameters), or null.</summary>
    public string? Problem() =>
        PagingProblem(Offset, Limit) is { } paging ? paging
        : Sort == TrialSort.Parameter && string.IsNullOrEmpty(Parameter) ? "sort: a parameter sort needs the parameter's name"
        : MinValue is { } v && !double.IsFinite(v) ? "min_value: must be a finite number"
        : null;
}

/// <summary>A trial as the trial table shows it: its fold values at its last reported epoch included.</summary>
[GenerateSerializer, Immutable, Alias("aunce.trial-row")]
public sealed record TrialRow(
    [property: Id(0)] int Trial,
    [property: Id(1)] TrialState State,
    [property: Id(2)] int LastEpoch,
    [property: Id(3)] int TargetEpoch,
    [property: Id(4)] double? Value,
    [property: Id(5)] double? MeanF1,
    [property: Id(6)] double? MeanAccuracy,
    [property: Id(7)] Dictionary<string, string> Hyperparameters,
    [property: Id(8)] double[] FoldValues,
    [property: Id(9)] double[] History,
    [property: Id(10)] string? Error = null);

[GenerateSerializer, Immutable, Alias("aunce.trial-page")]
public sealed record TrialPage(
    [property: Id(0)] int Total,
    [property: Id(1)] int Offset,
    [property: Id(2)] int Limit,
    [property: Id(3)] TrialRow[] Items);

/// <summary>One trial in full: its summary (history, per-fold per-AU metrics) and the decisions about it.</summary>
[GenerateSerializer, Immutable, Alias("aunce.trial-detail")]
public sealed record TrialDetail(
    [property: Id(0)] TrialSummary Trial,
    [property: Id(1)] DecisionRecord[] Decisions);

[GenerateSerializer, Immutable, Alias("aunce.decision-page")]
public sealed record DecisionPage(
    [property: Id(0)] int Total,
    [property: Id(1)] int Offset,
    [property: Id(2)] int Limit,
    [property: Id(3)] DecisionRecord[] Items);

/// <summary>
/// Trials as points in parameter space for parallel coordinates and the simplex view: every trial when they are few,
/// else the best ones and an even sample of the rest (<see cref="Shown"/> of <see cref="Total"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("aunce.parameter-points")]
public sealed record ParameterPoints(
    [property: Id(0)] int Total,
    [property: Id(1)] int Shown,
    [property: Id(2)] string[] Parameters,
    [property: Id(3)] ParameterPoint[] Points);

/// <summary>A trial's parameters as numbers (categorical: the choice's index) in <see cref="ParameterPoints.Parameters"/> order; NaN where a condition left one out.</summary>
[GenerateSerializer, Immutable, Alias("aunce.parameter-point")]
public sealed record ParameterPoint(
    [property: Id(0)] int Trial,
    [property: Id(1)] TrialState State,
    [property: Id(2)] double Value,
    [property: Id(3)] double[] Coordinates);

/// <summary>
/// Which hyperparameters mattered for reaching the best results: each searched parameter's share (shares sum to 1),
/// from completed trials' final values or from every trial's value at one epoch (a rung).
/// </summary>
/// <param name="Method">The estimator, named as the report shows it.</param>
/// <param name="Epoch">The epoch whose values were compared; null: completed trials' final values.</param>
/// <param name="Quantile">γ: the top fraction compared with the rest.</param>
/// <param name="Local">Compared with all trials' distribution (true) or with the whole range (false).</param>
/// <param name="Trials">How many trials had a value.</param>
/// <param name="TopTrials">How many of them were in the top ⌈γ·n⌉.</param>
/// <param name="Note">Why there is no answer (too few trials), when there is none.</param>
[GenerateSerializer, Immutable, Alias("aunce.importance-report")]
public sealed record ImportanceReport(
    [property: Id(0)] string Method,
    [property: Id(1)] int? Epoch,
    [property: Id(2)] double Quantile,
    [property: Id(3)] bool Local,
    [property: Id(4)] int Trials,
    [property: Id(5)] int TopTrials,
    [property: Id(6)] ImportanceRow[] Parameters,
    [property: Id(7)] string? Note);

/// <summary>One parameter's importance: its share and the divergence it came from.</summary>
[GenerateSerializer, Immutable, Alias("aunce.importance-row")]
public sealed record ImportanceRow(
    [property: Id(0)] string Parameter,
    [property: Id(1)] double Share,
    [property: Id(2)] double Divergence);
