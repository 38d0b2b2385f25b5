using System.Collections.Immutable;

namespace AunceSearch.Search;

/// <summary>
/// Independent uniform sampling. Each trial's configuration depends only on (seed, trial number), so it is
/// the same whatever order trials are created in and after any restart.
/// </summary>
public sealed class RandomSampler(ulong seed) : ISampler
{
    public ulong Seed { get; } = seed;

    public ImmutableSortedDictionary<string, string> Sample(SearchSpace space, int trialNumber, IReadOnlyList<Observation> history) =>
        Sample(space, trialNumber);

    public ImmutableSortedDictionary<string, string> Sample(SearchSpace space, int trialNumber)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(trialNumber);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var domain in space.Domains)
        {
            // One stream per (trial, domain name): adding a parameter does not change the others' draws.
            var random = new DeterministicRandom(Seed, (ulong)trialNumber, StableHash(domain.Name));
            domain.Sample(random, values);
        }

        return space.Prune(values.ToImmutableSortedDictionary(StringComparer.Ordinal));
    }

    private static ulong StableHash(string s)
    {
        var h = 14695981039346656037UL;
        foreach (var ch in s)
        {
            h = (h ^ ch) * 1099511628211UL;
        }

        return h;
    }
}
