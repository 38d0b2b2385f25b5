using System.Collections.Immutable;

namespace AunceSearch.Search;

/// <summary>A domain is active only when an earlier parameter has one of <see cref="Values"/>.</summary>
public sealed record DomainCondition(string Parameter, ImmutableArray<string> Values)
{
    public bool IsMet(IReadOnlyDictionary<string, string> config) => config.TryGetValue(Parameter, out var v) && Values.Contains(v);
}
