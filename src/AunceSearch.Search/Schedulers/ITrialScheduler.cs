using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Schedulers;

/// <summary>What the coordinator should run next.</summary>
/// <param name="Trial">The trial to run: a new trial's number (0, 1, 2, … in start order) or the paused trial to resume.</param>
/// <param name="IsNew">A new configuration (rather than a promotion).</param>
/// <param name="TargetStep">Train until this step (epoch), then the scheduler decides again.</param>
/// <param name="Decision">The promotion decision with its evidence (null for a new trial).</param>
/// <param name="Source">PBT exploit: the trial whose latest checkpoint this trial continues from.</param>
/// <param name="Config">PBT exploit: the configuration this trial continues with.</param>
/// <param name="FromStep">PBT exploit: the step of <paramref name="Source"/>'s checkpoint to continue from (its step when the decision was taken).</param>
public sealed record SchedulerJob(int Trial, bool IsNew, int TargetStep, SchedulerDecision? Decision,
    int? Source = null, System.Collections.Immutable.ImmutableSortedDictionary<string, string>? Config = null, int? FromStep = null);

/// <summary>
/// Everything any scheduler keeps, as plain data: it serialises with <see cref="SchedulerStateJson"/> and a restored
/// state makes the same decisions. Each scheduler uses the parts it needs.
/// </summary>
public sealed class SchedulerState
{
    /// <summary>Per-trial history (values by step, phase, successive-halving records).</summary>
    public StudyState Study { get; set; } = new();

    /// <summary>ASHA rungs: Rungs[k][trial] = value recorded at rung k.</summary>
    public List<Dictionary<int, double>> Rungs { get; set; } = [];

    /// <summary>Promotion ASHA: Promoted[k] = trials promoted out of rung k.</summary>
    public List<List<int>> Promoted { get; set; } = [];

    /// <summary>Trials waiting at a rung: trial → rung.</summary>
    public SortedDictionary<int, int> Paused { get; set; } = [];

    /// <summary>How many new trials the scheduler has started.</summary>
    public int Started { get; set; }

    /// <summary>Synchronous Hyperband: trial → bracket index, and the bracket in progress.</summary>
    public SortedDictionary<int, int> Bracket { get; set; } = [];

    public int CurrentBracket { get; set; }

    /// <summary>Synchronous Hyperband: the rung of the current bracket being filled or cut.</summary>
    public int CurrentRung { get; set; }

    /// <summary>Synchronous Hyperband: whether the current rung has been cut (losers stopped).</summary>
    public bool CurrentRungCut { get; set; }

    /// <summary>Multi-objective ASHA: ObjectiveRungs[k][trial] = the objective vector recorded at rung k.</summary>
    public List<Dictionary<int, double[]>> ObjectiveRungs { get; set; } = [];

    /// <summary>PBT: scores, live trials and last perturbation steps.</summary>
    public PbtState? Pbt { get; set; }

    /// <summary>PBT: each trial's configuration (what an exploiting trial copies).</summary>
    public SortedDictionary<int, SortedDictionary<string, string>> Configs { get; set; } = [];

    /// <summary>PBT: the next leg decided for each trial waiting at a perturbation point.</summary>
    public SortedDictionary<int, PbtLeg> Legs { get; set; } = [];

    /// <summary>The rung each trial is training towards.</summary>
    public SortedDictionary<int, int> TargetRung { get; set; } = [];

    /// <summary>Stopping ASHA's view of <see cref="Rungs"/> with its sorted-rung cache (derived; not serialised).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    internal AshaState? AshaView { get; set; }

    /// <summary>Decisions about other trials (e.g. trials stopped at a synchronous rung) for the coordinator to apply and record.</summary>
    public List<SchedulerDecision> Outbox { get; set; } = [];

    /// <summary>Returns and clears <see cref="Outbox"/>.</summary>
    public IReadOnlyList<SchedulerDecision> TakeOutbox()
    {
        var d = Outbox.ToList();
        Outbox.Clear();
        return d;
    }
}

/// <summary>JSON for <see cref="SchedulerState"/>.</summary>
public static class SchedulerStateJson
{
    public static string Serialize(SchedulerState state) => StateJson.Serialize(state);

    public static SchedulerState Deserialize(string json) => StateJson.Deserialize<SchedulerState>(json);

    public static SchedulerState Deserialize(ReadOnlySpan<byte> utf8Json) => StateJson.Deserialize<SchedulerState>(utf8Json);
}

/// <summary>
/// A trial scheduler as a pure function of (state, event): no clock, no randomness it does not own, no side effects
/// beyond the state passed in. Decisions may concern other trials (promotions); the coordinator applies them.
/// </summary>
public interface ITrialScheduler
{
    /// <summary>Name for logs and explanations.</summary>
    string Name { get; }

    /// <summary>The maximum resource (epochs) a trial may train.</summary>
    int MaxSteps { get; }

    SchedulerState NewState();

    /// <summary>A trial started (or changed) with <paramref name="config"/>; schedulers that copy configurations (PBT) keep it.</summary>
    void OnTrialConfig(SchedulerState state, int trial, IReadOnlyDictionary<string, string> config)
    {
    }

    /// <summary>A trial's fold-averaged value at a step: continue, stop, pause at a rung, or complete.</summary>
    SchedulerDecision OnReport(SchedulerState state, TrialReport report);

    /// <summary>A trial ended outside the scheduler's decisions (failed or cancelled), or completed.</summary>
    void OnTrialEnded(SchedulerState state, int trial, TrialPhase phase);

    /// <summary>
    /// Called when capacity frees up: a paused trial to promote, a new trial (if <paramref name="mayStartNew"/>), or null
    /// (nothing to do until a running trial reports). <paramref name="running"/> are the trials training now.
    /// </summary>
    SchedulerJob? NextJob(SchedulerState state, bool mayStartNew, IReadOnlyCollection<int> running);

    /// <summary>Called when the sweep can start nothing more: decisions for trials left paused (they stop).</summary>
    IReadOnlyList<SchedulerDecision> Finish(SchedulerState state);
}
