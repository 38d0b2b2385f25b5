namespace AunceSearch.Search.Schedulers;

/// <summary>The outcome of a simulated sweep.</summary>
/// <param name="Decisions">Every decision, in the order it was made.</param>
/// <param name="Steps">Total training steps (epochs) consumed by all trials.</param>
/// <param name="Finals">Each trial's last reported value and step.</param>
/// <param name="Incumbent">(steps consumed so far, best value among trials that reached max_t) after each completion.</param>
/// <param name="Makespan">Simulated time until the last worker finished (one step = one time unit).</param>
public sealed record SimulationResult(
    IReadOnlyList<SchedulerDecision> Decisions,
    long Steps,
    IReadOnlyDictionary<int, (int Step, double Value)> Finals,
    IReadOnlyList<(long Steps, double Best)> Incumbent,
    long Makespan);
