namespace AunceSearch.Search;

/// <summary>A parameter held at one value.</summary>
public sealed record FixedDomain(string Name, string Value) : Domain(Name)
{
    public override void Sample(DeterministicRandom random, IDictionary<string, string> into) => into[Name] = Value;
}
