namespace AunceSearch.Search.Pruners;

/// <summary>Where a trial is in its life.</summary>
public enum TrialPhase
{
    Running,
    Pruned,
    Complete,
}

/// <summary>What a pruner knows of one trial: its phase, its intermediate values and its successive-halving rung records.</summary>
public sealed class TrialHistory
{
    public TrialPhase Phase { get; set; }

    /// <summary>
    /// Intermediate values by step (NaN allowed). A sorted list, not a tree: steps arrive in order (an append), and a
    /// 100,000-trial sweep holds 100,000 of these (a tree's node per value made the scheduler's state the largest part of
    /// a restored sweep's heap). Its JSON is the same object of step → value.
    /// </summary>
    public SortedList<int, double> Values { get; set; } = [];

    /// <summary>Successive-halving rung records (Optuna's <c>completed_rung_&lt;r&gt;</c>): Rungs[r] = the value recorded at rung r.</summary>
    public List<double> Rungs { get; set; } = [];
}

/// <summary>
/// The whole state a pruner decides from: every trial's history. Plain data: it serialises with System.Text.Json
/// (NaN included, via <see cref="StudyStateJson"/>) and a restored state gives identical decisions.
/// </summary>
public sealed class StudyState
{
    /// <summary>Each trial's history by number (a sorted list: trials are added in order, and it is smaller and faster to restore than a tree).</summary>
    public SortedList<int, TrialHistory> Trials { get; set; } = [];

    public TrialHistory Trial(int number)
    {
        if (!Trials.TryGetValue(number, out var t))
        {
            t = new TrialHistory();
            Trials[number] = t;
        }

        return t;
    }
}

/// <summary>JSON for scheduler and pruner state (named floating-point literals, so NaN values survive).</summary>
public static class StateJson
{
    private static readonly System.Text.Json.JsonSerializerOptions Options = new()
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize<T>(T state) => System.Text.Json.JsonSerializer.Serialize(state, Options);

    public static T Deserialize<T>(string json) =>
        System.Text.Json.JsonSerializer.Deserialize<T>(json, Options) ?? throw new FormatException($"empty {typeof(T).Name}");

    public static T Deserialize<T>(ReadOnlySpan<byte> utf8Json) =>
        System.Text.Json.JsonSerializer.Deserialize<T>(utf8Json, Options) ?? throw new FormatException($"empty {typeof(T).Name}");
}

/// <summary>JSON for <see cref="StudyState"/>.</summary>
public static class StudyStateJson
{
    public static string Serialize(StudyState state) => StateJson.Serialize(state);

    public static StudyState Deserialize(string json) => StateJson.Deserialize<StudyState>(json);
}

/// <summary>
/// A pruner in Optuna's sense: after each intermediate report it says continue or prune. Implementations are pure:
/// they read and update only the <see cref="StudyState"/> they are given.
/// </summary>
public interface IPruner
{
    /// <summary>Records <paramref name="value"/> at <paramref name="step"/> for <paramref name="trial"/> and decides.</summary>
    SchedulerDecision Report(StudyState state, int trial, int step, double value);
}

/// <summary>Bookkeeping shared by every pruner.</summary>
public static class StudyStateExtensions
{
    /// <summary>Marks a trial complete (its final value is not used by the pruners).</summary>
    public static void Complete(this StudyState state, int trial) => state.Trial(trial).Phase = TrialPhase.Complete;

    /// <summary>Records a report and applies a pruner's decision to the trial's phase.</summary>
    public static SchedulerDecision ReportAndApply(this IPruner pruner, StudyState state, int trial, int step, double value)
    {
        var decision = pruner.Report(state, trial, step, value);
        if (decision.Kind == DecisionKind.Stop)
        {
            state.Trial(trial).Phase = TrialPhase.Pruned;
        }

        return decision;
    }
}
