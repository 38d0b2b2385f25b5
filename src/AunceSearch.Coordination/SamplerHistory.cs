using System.Collections.Immutable;
using AunceSearch.Contracts;
using AunceSearch.Search;

namespace AunceSearch.Coordination;

/// <summary>What a sweep's sampler learns from.</summary>
public static class SamplerHistory
{
    /// <summary>
    /// Every trial's configuration, state and last fold-mean value, after the definition's seed results (warm start). A
    /// paused trial counts as an observation at its rung (as a pruned one does), so TPE learns from rung results under
    /// promotion ASHA. A failed trial (diverged, bad data, a crash) is no observation at all: its last value says nothing
    /// about its configuration.
    /// </summary>
    public static List<Observation> Observations(SweepDefinition spec, IEnumerable<TrialSummary> trials) =>
    [
        .. spec.Search.SeedResults.Select((r, i) => new Observation(-1 - i, r.Config.ToImmutableSortedDictionary(StringComparer.Ordinal), ObservationState.Complete, r.Value, spec.Training.Epochs)),
        .. trials.Where(t => t.State != TrialState.Failed).OrderBy(t => t.Trial).Select(t => new Observation(
            t.Trial, t.Hyperparameters,
            t.State switch
            {
                TrialState.Completed => ObservationState.Complete,
                TrialState.Running => ObservationState.Running,
                _ => ObservationState.Pruned,
            },
            t.LastValue, t.LastEpoch)),
    ];
}
