using AunceSearch.Contracts;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Coordination;

/// <summary>The coordinator's state as plain data: what a snapshot holds.</summary>
public sealed class CoordinatorState
{
    /// <summary>The sweep as submitted (null until it is started).</summary>
    public SweepDefinition? Definition { get; set; }

    public SweepState State { get; set; }

    public int NextTrial { get; set; }

    public Dictionary<int, TrialSummary> Trials { get; set; } = [];

    public List<DecisionRecord> Decisions { get; set; } = [];

    /// <summary>The scheduler's state (<see cref="SchedulerStateJson"/>), written when a snapshot is taken.</summary>
    public string SchedulerState { get; set; } = "";

    public string? Error { get; set; }

    /// <summary>The latest progress events (at least the last <see cref="SweepCoordinator.MaxEvents"/>, at most a quarter more).</summary>
    public List<SweepEvent> Events { get; set; } = [];

    /// <summary>The sequence number of the last event.</summary>
    public long Sequence { get; set; }

    /// <summary>The best single-fold metric any trial has reported at each epoch (the partial-fold bound).</summary>
    public Dictionary<int, double> BestFoldValue { get; set; } = [];

    /// <summary>How many journaled inputs this state has applied.</summary>
    public long Inputs { get; set; }

    /// <summary>Best-k retention: the ended trials whose latest checkpoints are kept.</summary>
    public List<int> Retained { get; set; } = [];

    /// <summary>
    /// Trials restored from a snapshot whose <see cref="TrialFoldDetails"/> are still the stored JSON (their summaries hold
    /// none): parsed when a view or the trial's next report needs them, copied as they are into the next snapshot.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Dictionary<int, ReadOnlyMemory<byte>> UnparsedDetails { get; set; } = [];

    /// <summary>
    /// A copy that shares nothing the coordinator changes later: its collections are new, their elements (immutable
    /// records) shared. O(trials) reference copies, milliseconds at 100,000 trials: what a snapshot is encoded from off the
    /// owner's turn. Every property must be copied here (a test compares them all).
    /// </summary>
    public CoordinatorState Copy() => new()
    {
        Definition = Definition,
        State = State,
        NextTrial = NextTrial,
        Trials = new Dictionary<int, TrialSummary>(Trials),
        Decisions = [.. Decisions],
        SchedulerState = SchedulerState,
        Error = Error,
        Events = [.. Events],
        Sequence = Sequence,
        BestFoldValue = new Dictionary<int, double>(BestFoldValue),
        Inputs = Inputs,
        Retained = [.. Retained],
        UnparsedDetails = new Dictionary<int, ReadOnlyMemory<byte>>(UnparsedDetails),
    };
}
