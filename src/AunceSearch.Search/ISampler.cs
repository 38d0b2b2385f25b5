using System.Collections.Immutable;

namespace AunceSearch.Search;

/// <summary>Proposes configurations for trial numbers 0, 1, 2, …</summary>
public interface ISampler
{
    /// <summary>The configuration for trial <paramref name="trialNumber"/>, given what is known of earlier trials.</summary>
    ImmutableSortedDictionary<string, string> Sample(SearchSpace space, int trialNumber, IReadOnlyList<Observation> history);
}
