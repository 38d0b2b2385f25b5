using System.Globalization;

namespace AunceSearch.Search;

/// <summary>One searchable parameter (or a group of them, for a simplex).</summary>
public abstract record Domain(string Name)
{
    /// <summary>When set, the domain's parameters exist only in configurations where the condition holds.</summary>
    public DomainCondition? When { get; init; }

    /// <summary>The parameter names this domain assigns (one, or several for a simplex).</summary>
    public virtual IEnumerable<string> ParameterNames => [Name];

    /// <summary>Draws values with <paramref name="random"/> and writes them into <paramref name="into"/>.</summary>
    public abstract void Sample(DeterministicRandom random, IDictionary<string, string> into);

    /// <summary>Formats a number the way configurations store it (invariant, round-trippable).</summary>
    protected static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
