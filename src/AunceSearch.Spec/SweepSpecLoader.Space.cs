using System.Collections.Immutable;
using System.Globalization;
using AunceSearch.Contracts;
using AunceSearch.Model;
using AunceSearch.Coordination;
using YamlDotNet.RepresentationModel;

namespace AunceSearch.Spec;

/// <summary>The spec loader: the search space (<c>search.space:</c>).</summary>
public static partial class SweepSpecLoader
{
    private static ParameterDefinition[] ReadSpace(YamlMap? map, TrainingDefinition training)
    {
        if (map is null)
        {
            return [];
        }

        var domains = new List<ParameterDefinition>();
        var assigned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in map.Keys.ToList())
        {
            var d = map.RequiredMap(key);
            var when = ReadWhen(d);
            ParameterDefinition domain;
            if (d.Has("simplex"))
            {
                domain = ReadSimplex(d, key, training);
            }
            else
            {
                if (!TrainingVocabulary.Hyperparameters.ContainsKey(key))
                {
                    map.TryNode(key, out var n);
                    throw map.Error(n, key, $"unknown hyperparameter '{key}' (known: {string.Join(", ", TrainingVocabulary.Hyperparameters.Keys)})");
                }

                if (TrainingVocabulary.Probabilities.Contains(key))
                {
                    throw d.Error($"{key} is a positive-pair probability: search it inside a simplex group, e.g. positives: {{simplex: [p_max, p_aug, p_mix, p_min]}}");
                }

                domain = ReadScalarDomain(d, key);
            }

            domain = domain with { When = when };
            foreach (var p in domain is SimplexParameter simplex ? simplex.Components : [domain.Name])
            {
                if (!assigned.Add(p))
                {
                    throw d.Error($"parameter '{p}' is searched more than once");
                }
            }

            domains.Add(domain);
        }

        map.EnsureNoUnknownKeys();
        try
        {
            _ = domains.ToSpace();   // what the coordinator builds from it: duplicate names, conditions on later parameters
            return [.. domains];
        }
        catch (ArgumentException e)
        {
            throw map.Error(e.Message.Split(" (Parameter", 2)[0]);
        }
    }

    /// <summary><c>when: {parameter: [values]}</c>: the domain is active only when that earlier parameter has one of the values.</summary>
    private static ParameterCondition? ReadWhen(YamlMap d)
    {
        if (d.Map("when") is not { } w)
        {
            return null;
        }

        var keys = w.Keys.ToList();
        if (keys.Count != 1)
        {
            throw w.Error("give exactly one parameter: when: {parameter: [values]}");
        }

        var values = w.List(keys[0]) ?? [];
        if (values.Count == 0)
        {
            throw w.Error($"list at least one value of '{keys[0]}'");
        }

        var normalised = values.Select(v => w.ParseDouble(v, keys[0]).ToString("R", CultureInfo.InvariantCulture)).ToArray();
        w.EnsureNoUnknownKeys();
        return new ParameterCondition(keys[0], normalised);
    }

    private static ParameterDefinition ReadScalarDomain(YamlMap d, string key)
    {
        string[] kinds = ["uniform", "log_uniform", "int", "log_int", "choice", "fixed"];
        var present = kinds.Where(d.Has).ToList();
        if (present.Count != 1)
        {
            throw d.Error($"give exactly one of {string.Join(", ", kinds)}");
        }

        var kind = present[0];
        ParameterDefinition domain;
        if (kind == "fixed")
        {
            d.TryNode("fixed", out var node);
            var value = d.ParseDouble(node, "fixed");
            CheckHyperparameter(d, node, "fixed", value);
            CheckBound(d, node, key, value);
            domain = new FixedParameter(key, value.ToString("R", CultureInfo.InvariantCulture));
        }
        else if (kind == "choice")
        {
            var items = d.List("choice")!;
            if (items.Count == 0)
            {
                throw d.Error("choice must list at least one value");
            }

            foreach (var item in items)
            {
                CheckBound(d, item, key, d.ParseDouble(item, "choice"));
            }

            domain = new CategoricalParameter(key, [.. items.Select(i => d.ParseDouble(i, "choice").ToString("R", CultureInfo.InvariantCulture))]);
        }
        else
        {
            var bounds = d.List(kind)!;
            if (bounds.Count != 2)
            {
                d.TryNode(kind, out var n);
                throw d.Error(n, kind, "must be [low, high]");
            }

            var low = d.ParseDouble(bounds[0], kind);
            var high = d.ParseDouble(bounds[1], kind);
            if (!(low < high))
            {
                throw d.Error(bounds[0], kind, $"low ({low.ToString(CultureInfo.InvariantCulture)}) must be < high ({high.ToString(CultureInfo.InvariantCulture)})");
            }

            var log = kind.StartsWith("log_", StringComparison.Ordinal);
            if (log && low <= 0)
            {
                throw d.Error(bounds[0], kind, $"a log scale needs low > 0, got {low.ToString(CultureInfo.InvariantCulture)}");
            }

            CheckBound(d, bounds[0], key, low);
            CheckBound(d, bounds[1], key, high);
            if (kind is "int" or "log_int" || key == "batch_size")
            {
                if (low != Math.Floor(low) || high != Math.Floor(high))
                {
                    throw d.Error(bounds[0], kind, "integer bounds expected");
                }

                var step = d.Long("step") ?? 1;
                domain = new IntParameter(key, (long)low, (long)high, step, log);
            }
            else
            {
                domain = new FloatParameter(key, low, high, log);
            }
        }

        d.EnsureNoUnknownKeys();
        return domain;
    }

    private static void CheckBound(YamlMap d, YamlNode node, string key, double value)
    {
        var problem = key switch
        {
            "temperature" or "lr" when value <= 0 => $"{key} must be > 0",
            "lambda_min" or "lambda_maj" or "weight_decay" when value < 0 => $"{key} must be >= 0",
            "batch_size" when value < 2 => "batch_size must be >= 2",
            _ => null,
        };
        if (problem is not null)
        {
            throw new SpecException($"{YamlMap.At(d.File, node)}: {d.Path}: {problem}, got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static SimplexParameter ReadSimplex(YamlMap d, string key, TrainingDefinition training)
    {
        var components = d.StringList("simplex")!.ToImmutableArray();
        d.TryNode("simplex", out var node);
        foreach (var c in components)
        {
            if (!TrainingVocabulary.Probabilities.Contains(c))
            {
                throw d.Error(node, "simplex", $"'{c}' is not a positive-pair probability ({string.Join(", ", TrainingVocabulary.Probabilities)})");
            }
        }

        if (components.Length < 2 || components.Distinct().Count() != components.Length)
        {
            throw d.Error(node, "simplex", "list at least two distinct probabilities");
        }

        var fixedValues = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        if (d.Map("fixed") is { } f)
        {
            foreach (var c in f.Keys.ToList())
            {
                f.TryNode(c, out var vn);
                if (!components.Contains(c))
                {
                    throw f.Error(vn, c, $"'{c}' is not one of the simplex components");
                }

                var v = f.ParseDouble(vn, c);
                if (v is < 0 or > 1)
                {
                    throw f.Error(vn, c, $"must be in [0, 1], got {v.ToString(CultureInfo.InvariantCulture)}");
                }

                fixedValues[c] = v;
            }

            f.EnsureNoUnknownKeys();
        }

        // Components outside the simplex keep their fixed training values; together everything must sum to 1.
        var outside = TrainingVocabulary.Probabilities.Where(p => !components.Contains(p)).Sum(p => double.Parse(training.Hyperparameters[p], CultureInfo.InvariantCulture));
        var fixedSum = fixedValues.Values.Sum() + outside;
        if (fixedSum > 1 + 1e-9 || (fixedValues.Count == components.Length && Math.Abs(fixedSum - 1) > 1e-6))
        {
            throw d.Error($"fixed probabilities (and those outside the simplex) sum to {fixedSum.ToString("0.######", CultureInfo.InvariantCulture)}; they must leave the simplex summing to 1");
        }

        if (training.Modes["positives"] == "reference" && components.Contains("p_min") && !(fixedValues.TryGetValue("p_min", out var pm) && pm == 0))
        {
            throw d.Error(node, "simplex", "positives: reference has no lowest-similarity positive: fix p_min at 0 (fixed: {p_min: 0}) or leave it out");
        }

        d.EnsureNoUnknownKeys();
        // Rescale: the free components share 1 - fixed - outside.
        return new SimplexParameter(key, [.. components], fixedValues.ToDictionary(StringComparer.Ordinal), 1.0 - outside);
    }
}
