using System.Collections.Immutable;

namespace AunceSearch.Search;

/// <summary>An ordered set of domains; parameter names are unique across it.</summary>
public sealed class SearchSpace
{
    public SearchSpace(IEnumerable<Domain> domains)
    {
        Domains = [.. domains];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in Domains)
        {
            if (d.When is { } c && !seen.Contains(c.Parameter))
            {
                throw new ArgumentException($"parameter '{d.Name}' is conditional on '{c.Parameter}', which must be defined before it", nameof(domains));
            }

            foreach (var name in d.ParameterNames)
            {
                if (!seen.Add(name))
                {
                    throw new ArgumentException($"parameter '{name}' is defined more than once in the search space", nameof(domains));
                }
            }
        }
    }

    public ImmutableArray<Domain> Domains { get; }

    public IEnumerable<string> ParameterNames => Domains.SelectMany(d => d.ParameterNames);

    public bool HasConditions => Domains.Any(d => d.When is not null);

    /// <summary>Removes the parameters of domains whose condition does not hold (conditions are checked in domain order).</summary>
    public ImmutableSortedDictionary<string, string> Prune(ImmutableSortedDictionary<string, string> config)
    {
        if (!HasConditions)
        {
            return config;
        }

        var result = config;
        foreach (var d in Domains.Where(d => d.When is { } c && !c.IsMet(result)))
        {
            result = result.RemoveRange(d.ParameterNames);
        }

        return result;
    }
}
