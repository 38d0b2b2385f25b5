using System.Collections.Immutable;

namespace AunceSearch.Search;

/// <summary>A categorical parameter: one of <see cref="Choices"/>, uniformly.</summary>
public sealed record CategoricalDomain(string Name, ImmutableArray<string> Choices) : Domain(Name)
{
    public override void Sample(DeterministicRandom random, IDictionary<string, string> into) =>
        into[Name] = Choices[random.NextInt(Choices.Length)];
}
