namespace AunceSearch.Search.Pruners;

/// <summary>
/// A pruner in Optuna's sense: after each intermediate report it says continue or prune. Implementations are pure:
/// they read and update only the <see cref="StudyState"/> they are given.
/// </summary>
public interface IPruner
{
    /// <summary>Records <paramref name="value"/> at <paramref name="step"/> for <paramref name="trial"/> and decides.</summary>
    SchedulerDecision Report(StudyState state, int trial, int step, double value);
}
