using System.Collections.Immutable;
using AunceSearch.Contracts;
using AunceSearch.Model;
using AunceSearch.Search;
using AunceSearch.Search.Pruners;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Coordination;

/// <summary>The one mapping from a sweep definition to the search algorithms it names (AunceSearch.Search: pure code).</summary>
public static class DefinitionToSearch
{
    /// <summary>The search space; an invalid one (a duplicate name, a condition on a later parameter) is an <see cref="ArgumentException"/>.</summary>
    public static SearchSpace ToSpace(this IEnumerable<ParameterDefinition> parameters) => new(parameters.Select(ToDomain));

    public static ISampler CreateSampler(this SearchDefinition search, ulong seed) => search.Sampler switch
    {
        TpeSampling t => new TpeSampler(seed, new TpeOptions
        {
            StartupTrials = t.StartupTrials,
            EiCandidates = t.EiCandidates,
            PriorWeight = t.PriorWeight,
            ConsiderMagicClip = t.ConsiderMagicClip,
            ConsiderEndpoints = t.ConsiderEndpoints,
            Multivariate = t.Multivariate,
            ConstantLiar = t.ConstantLiar,
            Direction = search.Direction,
        }),
        GridSampling g => new GridSampler(seed, g.Points),
        SobolSampling => new SobolSampler(seed),
        RandomSampling => new RandomSampler(seed),
        var other => throw new ArgumentException($"unknown sampler {other.GetType().Name}", nameof(search)),
    };

    /// <summary>Builds the scheduler for a sweep (the sweep id names Hyperband's study for its bracket hash).</summary>
    public static ITrialScheduler CreateScheduler(this SweepDefinition definition, string sweepId, SearchSpace space) =>
        definition.Search.Scheduler.Create(definition.Training.Epochs, definition.Search.Direction, sweepId, space, definition.Seed);

    /// <summary>
    /// Builds a scheduler over <paramref name="maxT"/> epochs (the sweep id names Hyperband's study for its bracket hash;
    /// PBT resamples from <paramref name="space"/> with <paramref name="seed"/>).
    /// </summary>
    public static ITrialScheduler Create(this SchedulerDefinition scheduler, int maxT, Direction optimize, string sweepId, SearchSpace? space = null, ulong seed = 0)
    {
        var direction = optimize;
        return scheduler switch
        {
            AshaScheduling a => Asha(a, maxT, direction),
            SuccessiveHalvingScheduling s => new PrunerScheduler(
                new SuccessiveHalvingPruner(s.GracePeriod, s.ReductionFactor, s.MinEarlyStoppingRate, s.BootstrapCount, direction), maxT, "successive_halving"),
            HyperbandScheduling h => new PrunerScheduler(
                new HyperbandPruner(h.GracePeriod, Math.Max(maxT, h.GracePeriod + 1), h.ReductionFactor, h.BootstrapCount, sweepId, direction), maxT, "hyperband"),
            SynchronousHyperbandScheduling h => new SynchronousHyperbandScheduler(maxT, h.ReductionFactor, h.GracePeriod, direction),
            MedianScheduling m => new PrunerScheduler(PercentilePruner.Median(m.StartupTrials, m.WarmupSteps, m.IntervalSteps, m.MinTrials, direction), maxT, "median"),
            PercentileScheduling p => new PrunerScheduler(
                new PercentilePruner(p.Percentile, p.StartupTrials, p.WarmupSteps, p.IntervalSteps, p.MinTrials, direction), maxT, "percentile"),
            MedianStoppingScheduling m => new PrunerScheduler(new MedianStoppingRule(m.GracePeriod, m.MinSamples, direction), maxT, "median_stopping"),
            PbtScheduling p => new PbtTrialScheduler(maxT, new PbtExploitRule(space ?? throw new ArgumentException("pbt needs the search space (to resample)", nameof(space)), new PbtOptions
            {
                PerturbationInterval = p.PerturbationInterval,
                BurnInPeriod = p.BurnInPeriod,
                QuantileFraction = p.QuantileFraction,
                ResampleProbability = p.ResampleProbability,
                PerturbationFactors = [.. p.PerturbationFactors],
                Direction = direction,
            }, seed)),
            FifoScheduling => new FifoScheduler(maxT),
            var other => throw new ArgumentException($"unknown scheduler {other.GetType().Name}", nameof(scheduler)),
        };
    }

    private static ITrialScheduler Asha(AshaScheduling a, int maxT, Direction direction)
    {
        var options = new AshaOptions
        {
            GracePeriod = a.GracePeriod,
            ReductionFactor = a.ReductionFactor,
            MaxT = maxT,
            Direction = direction,
            SmallRungPolicy = a.SmallRungPolicy,
        };
        return a.Variant switch
        {
            AshaVariant.Stopping when a.Objectives.Length >= 2 => new MultiObjectiveAshaScheduler(
                new MultiObjectiveAshaRule(options, [.. a.Objectives.Select(o => o.Direction)])),
            AshaVariant.Stopping => new AshaStoppingScheduler(options),
            _ => new AshaPromotionScheduler(options, a.MinEarlyStoppingRate),
        };
    }

    private static Domain ToDomain(ParameterDefinition p)
    {
        Domain d = p switch
        {
            FloatParameter f => new FloatDomain(f.Name, f.Low, f.High, f.Log),
            IntParameter i => new IntDomain(i.Name, i.Low, i.High, i.Step, i.Log),
            CategoricalParameter c => new CategoricalDomain(c.Name, [.. c.Choices]),
            FixedParameter x => new FixedDomain(x.Name, x.Value),
            SimplexParameter s => new SimplexDomain(s.Name, [.. s.Components], s.Fixed.ToImmutableDictionary(StringComparer.Ordinal)) { Budget = s.Budget },
            _ => throw new ArgumentException($"unknown parameter kind {p.GetType().Name} ('{p.Name}')", nameof(p)),
        };
        return d with { When = p.When is { } w ? new DomainCondition(w.Parameter, [.. w.Values]) : null };
    }
}
