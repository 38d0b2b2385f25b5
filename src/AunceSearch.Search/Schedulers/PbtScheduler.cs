using System.Collections.Immutable;
using System.Globalization;

namespace AunceSearch.Search.Schedulers;

/// <summary>Population-based training settings (Ray Tune's defaults, with the interval in steps).</summary>
public sealed record PbtOptions
{
    public int PerturbationInterval { get; init; } = 4;

    public int BurnInPeriod { get; init; }

    public double QuantileFraction { get; init; } = 0.25;

    public double ResampleProbability { get; init; } = 0.25;

    public ImmutableArray<double> PerturbationFactors { get; init; } = [1.2, 0.8];

    public Direction Direction { get; init; } = Direction.Maximize;
}

/// <summary>A PBT decision: Continue, or Exploit (copy <see cref="Source"/>'s checkpoint and train on with <see cref="Config"/>).</summary>
public sealed record PbtDecision(SchedulerDecision Decision, int? Source, ImmutableSortedDictionary<string, string>? Config);

/// <summary>PBT state: each live trial's latest score and its last perturbation step (plain data; JSON round-trips).</summary>
public sealed class PbtState
{
    public SortedDictionary<int, double> Scores { get; set; } = [];

    public SortedDictionary<int, int> LastPerturbation { get; set; } = [];

    public SortedSet<int> Live { get; set; } = [];
}

/// <summary>
/// Population-based training (Jaderberg et al. 2017) with Ray Tune's rules: every <c>perturbation_interval</c> steps
/// (after the burn-in) a trial is ranked among the live trials with a score; with q = ⌈n·quantile_fraction⌉ capped at
/// ⌊n/2⌋, a trial in the bottom q exploits a trial drawn from the top q — copying its checkpoint and configuration — and
/// explores: each parameter is resampled with probability resample_probability, else a real value is multiplied by a
/// factor drawn from the perturbation factors (clamped to its domain), an integer or categorical shifts one step. A pure
/// function of (state, report); the copy itself is done by whoever applies the decision. Deterministic per seed.
/// </summary>
public sealed class PbtScheduler(SearchSpace space, PbtOptions options, ulong seed)
{
    public PbtOptions Options { get; } = options;

    public void Start(PbtState state, int trial) => state.Live.Add(trial);

    public void End(PbtState state, int trial) => state.Live.Remove(trial);

    public PbtDecision OnReport(PbtState state, int trial, int step, double value, IReadOnlyDictionary<int, IReadOnlyDictionary<string, string>> configs)
    {
        state.Live.Add(trial);
        state.Scores[trial] = value;
        PbtDecision Continue(string why) => new(new SchedulerDecision(trial, step, DecisionKind.Continue, value, null, step, null, null, 0, "continues: " + why), null, null);
        if (step < Options.BurnInPeriod)
        {
            return Continue($"step {step} is within the burn-in ({Options.BurnInPeriod})");
        }

        if (step - state.LastPerturbation.GetValueOrDefault(trial, 0) < Options.PerturbationInterval)
        {
            return Continue($"next perturbation at step {state.LastPerturbation.GetValueOrDefault(trial, 0) + Options.PerturbationInterval}");
        }

        state.LastPerturbation[trial] = step;
        var sign = Options.Direction == Direction.Maximize ? -1.0 : 1.0;
        var ranked = state.Live.Where(state.Scores.ContainsKey).OrderBy(t => sign * state.Scores[t]).ThenBy(t => t).ToList();
        var n = ranked.Count;
        if (n <= 1)
        {
            return Continue("no other live trial to compare with");
        }

        var q = Math.Min((int)Math.Ceiling(n * Options.QuantileFraction), n / 2);
        var rank = ranked.IndexOf(trial) + 1;
        if (q == 0 || rank <= n - q)
        {
            return Continue(Fmt($"rank {rank} of {n} at step {step} is above the bottom {q}"));
        }

        var random = new DeterministicRandom(seed, (ulong)trial, (ulong)step, 0x706274UL);
        var upper = ranked.Take(q).ToList();
        var source = upper[random.NextInt(upper.Count)];
        var config = Explore(configs[source], random, trial, step);
        var d = new SchedulerDecision(trial, step, DecisionKind.Exploit, value, null, step, state.Scores[source], rank, n,
            Fmt($"exploits trial {source} at step {step}: {value:0.0000} ranks {rank} of {n} (bottom {q}); copies its checkpoint ({state.Scores[source]:0.0000}) and explores its configuration"));
        return new PbtDecision(d, source, config);
    }

    /// <summary>Ray's explore step on a configuration.</summary>
    public ImmutableSortedDictionary<string, string> Explore(IReadOnlyDictionary<string, string> config, DeterministicRandom random, int trial, int step)
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        double D(string k) => double.Parse(config[k], NumberStyles.Float, CultureInfo.InvariantCulture);
        var result = config.ToImmutableSortedDictionary(StringComparer.Ordinal).ToBuilder();
        var fresh = new RandomSampler(seed ^ 0x9E3779B97F4A7C15UL).Sample(space, (trial * 100_003) + step);
        foreach (var domain in space.Domains)
        {
            var resample = random.NextDouble() < Options.ResampleProbability;
            var factor = Options.PerturbationFactors[random.NextInt(Options.PerturbationFactors.Length)];
            switch (domain)
            {
                case FixedDomain:
                    break;
                case var _ when resample:
                    foreach (var p in domain.ParameterNames)
                    {
                        result[p] = fresh[p];
                    }

                    break;
                case FloatDomain f:
                    result[f.Name] = F(Math.Clamp(D(f.Name) * factor, f.Low, f.High));
                    break;
                case IntDomain n:
                    var shifted = D(n.Name) + (factor >= 1 ? n.Step : -n.Step);
                    result[n.Name] = ((long)Math.Clamp(shifted, n.Low, n.High)).ToString(CultureInfo.InvariantCulture);
                    break;
                case CategoricalDomain c:
                    var i = Math.Max(0, c.Choices.IndexOf(config[c.Name])) + (factor >= 1 ? 1 : -1);
                    result[c.Name] = c.Choices[Math.Clamp(i, 0, c.Choices.Length - 1)];
                    break;
                case SimplexDomain s:
                    // Perturb one free component by the factor and renormalise the free ones to their share.
                    var free = s.Components.Where(x => !s.Fixed.ContainsKey(x)).ToArray();
                    var values = free.Select(D).ToArray();
                    values[random.NextInt(free.Length)] *= factor;
                    var mass = s.Budget - s.Fixed.Values.Sum();
                    var total = values.Sum();
                    for (var k = 0; k < free.Length; k++)
                    {
                        result[free[k]] = F(total > 0 ? mass * values[k] / total : mass / free.Length);
                    }

                    break;
            }
        }

        return result.ToImmutable();
    }

    private static string Fmt(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
