using System.Collections.Immutable;
using System.Globalization;

namespace AunceSearch.Search;

/// <summary>A domain is active only when an earlier parameter has one of <see cref="Values"/>.</summary>
public sealed record DomainCondition(string Parameter, ImmutableArray<string> Values)
{
    public bool IsMet(IReadOnlyDictionary<string, string> config) => config.TryGetValue(Parameter, out var v) && Values.Contains(v);
}

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

/// <summary>A real parameter uniform on [Low, High], or log-uniform when <see cref="Log"/>.</summary>
public sealed record FloatDomain(string Name, double Low, double High, bool Log = false) : Domain(Name)
{
    public override void Sample(DeterministicRandom random, IDictionary<string, string> into)
    {
        var u = random.NextDouble();
        var value = Log
            ? Math.Exp(Math.Log(Low) + (u * (Math.Log(High) - Math.Log(Low))))
            : Low + (u * (High - Low));
        into[Name] = Format(Math.Clamp(value, Low, High));
    }
}

/// <summary>An integer parameter in [Low, High] with an optional step, or log-uniform when <see cref="Log"/>.</summary>
public sealed record IntDomain(string Name, long Low, long High, long Step = 1, bool Log = false) : Domain(Name)
{
    public override void Sample(DeterministicRandom random, IDictionary<string, string> into)
    {
        long value;
        if (Log)
        {
            var x = Math.Exp(Math.Log(Low) + (random.NextDouble() * (Math.Log(High + 1.0) - Math.Log(Low))));
            value = Math.Clamp((long)Math.Floor(x), Low, High);
        }
        else
        {
            var count = ((High - Low) / Step) + 1;
            value = Low + ((long)(random.NextDouble() * count) * Step);
        }

        into[Name] = value.ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>A categorical parameter: one of <see cref="Choices"/>, uniformly.</summary>
public sealed record CategoricalDomain(string Name, ImmutableArray<string> Choices) : Domain(Name)
{
    public override void Sample(DeterministicRandom random, IDictionary<string, string> into) =>
        into[Name] = Choices[random.NextInt(Choices.Length)];
}

/// <summary>A parameter held at one value.</summary>
public sealed record FixedDomain(string Name, string Value) : Domain(Name)
{
    public override void Sample(DeterministicRandom random, IDictionary<string, string> into) => into[Name] = Value;
}

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

/// <summary>Reading typed values out of a configuration (parameter name → invariant string).</summary>
public static class ConfigurationExtensions
{
    public static double GetDouble(this IReadOnlyDictionary<string, string> config, string name, double fallback) =>
        config.TryGetValue(name, out var s) ? double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture) : fallback;

    public static int GetInt(this IReadOnlyDictionary<string, string> config, string name, int fallback) =>
        config.TryGetValue(name, out var s) ? int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture) : fallback;

    public static string GetString(this IReadOnlyDictionary<string, string> config, string name, string fallback) =>
        config.TryGetValue(name, out var s) ? s : fallback;
}
