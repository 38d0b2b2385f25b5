using System.Collections.Immutable;

namespace AunceSearch.Search;

/// <summary>
/// Probabilities on a simplex (e.g. the positive-pair probabilities p_max, p_aug, p_mix, p_min): the free
/// components are drawn uniformly (Dirichlet(1,…,1)) over what the fixed components leave, so all sum to 1.
/// </summary>
public sealed record SimplexDomain(string Name, ImmutableArray<string> Components, ImmutableDictionary<string, double> Fixed)
    : Domain(Name)
{
    public override IEnumerable<string> ParameterNames => Components;

    /// <summary>What all components sum to (1 unless probabilities outside this group take a share).</summary>
    public double Budget { get; init; } = 1.0;

    public override void Sample(DeterministicRandom random, IDictionary<string, string> into)
    {
        var free = Components.Where(c => !Fixed.ContainsKey(c)).ToArray();
        var remaining = Budget - Fixed.Values.Sum();
        var draws = free.Select(_ => random.NextExponential()).ToArray();
        var total = draws.Sum();
        for (var i = 0; i < free.Length; i++)
        {
            into[free[i]] = Format(remaining * draws[i] / total);
        }

        foreach (var (name, value) in Fixed)
        {
            into[name] = Format(value);
        }
    }
}
