using System.Globalization;
using System.Text.Json;
using AunceSearch.Contracts;
using AunceSearch.Coordination;
using AunceSearch.Model;
using AunceSearch.Search;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Bench;

/// <summary>Anytime results of several methods over seeds: per method and seed, (epochs consumed, best final F1) pairs.</summary>
public sealed record AnytimeResults(string Benchmark, int Budget, double Optimum, double Worst, Dictionary<string, List<List<double[]>>> Methods);

/// <summary>
/// Runs AunceSearch's samplers × schedulers on the real learning-curve table (and on its parametric surrogate) for
/// many seeds at an equal budget of training epochs, one worker, as Optuna's sequential study does.
/// </summary>
public static class SearchQuality
{
    private static readonly (string Name, string Sampler, string Scheduler, int Eta)[] Methods =
    [
        ("random + none (full-budget random search)", "random", "none", 2),
        ("random + asha", "random", "asha", 2),
        ("random + asha (eta 3)", "random", "asha", 3),
        ("random + asha (eta 4)", "random", "asha", 4),
        ("tpe + none", "tpe", "none", 2),
        ("tpe + asha (AunceSearch default)", "tpe", "asha", 2),
        ("tpe + hyperband (sync)", "tpe", "hyperband_sync", 2),
        ("tpe + hyperband (async, Optuna's rule)", "tpe", "hyperband", 2),
    ];

    /// <summary>A sweep's scheduler with the spec's defaults (grace period 1, Ray's small-rung rule) and reduction factor <paramref name="eta"/>.</summary>
    private static SchedulerDefinition SchedulerOf(string kind, int eta) => kind switch
    {
        "asha" => new AshaScheduling(AshaVariant.Promotion, 1, eta, SmallRungPolicy.Ray, 0, []),
        "hyperband" => new HyperbandScheduling(1, eta, 0),
        "hyperband_sync" => new SynchronousHyperbandScheduling(1, eta),
        _ => new FifoScheduling(),
    };

    public static AnytimeResults RunTable(CurveTable table, int seeds, int budget)
    {
        var space = new SearchSpace(CurveTable.Parameters.Select(p => (Domain)new CategoricalDomain(p, [.. table.Values[p]])));
        return Run("table", space, table.Epochs, seeds, budget, table.Optimum, table.Worst, c => table.Curves[CurveTable.Key(c)]);
    }

    public static AnytimeResults RunSurrogate(Surrogate s, int epochs, int seeds, int budget)
    {
        var space = new SearchSpace([
            new FloatDomain("lr", Math.Pow(10, s.Low[0]), Math.Pow(10, s.High[0]), Log: true),
            new FloatDomain("temperature", Math.Pow(10, s.Low[1]), Math.Pow(10, s.High[1]), Log: true),
            new FloatDomain("lambda_min", s.Low[2], s.High[2]),
            new FloatDomain("lambda_maj", s.Low[3], s.High[3]),
        ]);
        return Run("surrogate", space, epochs, seeds, budget, s.Optimum(), 0, c =>
        {
            var x = Surrogate.Encode(c);
            return [.. Enumerable.Range(1, epochs).Select(e => s.At(x, e))];
        });
    }

    private static AnytimeResults Run(string name, SearchSpace space, int epochs, int seeds, int budget, double optimum, double worst,
        Func<IReadOnlyDictionary<string, string>, double[]> curveOf)
    {
        var results = new Dictionary<string, List<List<double[]>>>();
        foreach (var (method, samplerKind, schedulerKind, eta) in Methods)
        {
            var perSeed = new List<List<double[]>>();
            for (var seed = 1; seed <= seeds; seed++)
            {
                ISampler sampler = samplerKind == "tpe"
                    ? new TpeSampler((ulong)seed, new TpeOptions { Multivariate = true, ConstantLiar = true })
                    : new RandomSampler((ulong)seed);
                var scheduler = SchedulerOf(schedulerKind, eta).Create(epochs, Direction.Maximize, $"bench-{seed}");
                var result = SweepSimulator.Run(scheduler, (t, history) =>
                {
                    var config = sampler.Sample(space, t, history);
                    var curve = curveOf(config);
                    return (config, e => curve[e - 1]);
                }, workers: 1, maxTrials: 100_000, budgetSteps: budget);
                perSeed.Add([.. result.Incumbent.Where(p => p.Steps <= budget).Select(p => new[] { (double)p.Steps, p.Best })]);
            }

            results[method] = perSeed;
        }

        return new AnytimeResults(name, budget, optimum, worst, results);
    }

    public static void Save(AnytimeResults r, string path) => File.WriteAllText(path, JsonSerializer.Serialize(r));

    public static AnytimeResults Load(string path) =>
        JsonSerializer.Deserialize<AnytimeResults>(File.ReadAllText(path)) ?? throw new FormatException($"{path}: empty");

    /// <summary>The best value reached by <paramref name="budget"/> epochs in one seed's run (the worst table value if none yet).</summary>
    public static double BestAt(List<double[]> run, double budget, double floor) =>
        run.Where(p => p[0] <= budget).Select(p => p[1]).DefaultIfEmpty(floor).Max();

    /// <summary>Prints median [quartiles] of the incumbent at fractions of the budget, final regret and time to target, and checks the goals.</summary>
    public static void Report(TextWriter w, AnytimeResults ours, AnytimeResults? optuna)
    {
        var all = new Dictionary<string, List<List<double[]>>>(ours.Methods);
        if (optuna is not null)
        {
            foreach (var (k, v) in optuna.Methods)
            {
                all[k] = v;
            }
        }

        var optimum = ours.Optimum;
        var floor = ours.Worst;
        var randomFull = ours.Methods.First(m => m.Key.StartsWith("random + none", StringComparison.Ordinal)).Value;
        var target = Median(randomFull.Select(r => BestAt(r, ours.Budget, floor)));
        string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
        w.WriteLine($"benchmark: {ours.Benchmark}; budget {ours.Budget} epochs; {randomFull.Count} seeds; optimum {F(optimum)}; " +
                    $"target = median best of full-budget random search = {F(target)}");
        w.WriteLine($"{"method",-42} {"best@25%",22} {"best@50%",22} {"best@100%",22} {"regret",8} {"to target",10}");
        var finals = new Dictionary<string, double>();
        foreach (var (method, runs) in all)
        {
            string Q(double frac)
            {
                var v = runs.Select(r => BestAt(r, ours.Budget * frac, floor)).ToList();
                return $"{F(Median(v))} [{F(Percentile.Linear(v, 25))},{F(Percentile.Linear(v, 75))}]";
            }

            var regret = Median(runs.Select(r => optimum - BestAt(r, ours.Budget, floor)));
            finals[method] = regret;
            var toTarget = TimeToTarget(runs, target, ours.Budget);
            w.WriteLine($"{method,-42} {Q(0.25),22} {Q(0.5),22} {Q(1.0),22} {F(regret),8} {(toTarget is { } t ? $"{t,5:0} ({t / ours.Budget:0.00})" : "never"),10}");
        }

        w.WriteLine();
        var ourDefault = finals.First(kv => kv.Key.Contains("default", StringComparison.Ordinal));
        foreach (var (method, regret) in finals.Where(kv => kv.Key.StartsWith("optuna", StringComparison.Ordinal)))
        {
            var ok = ourDefault.Value <= regret + 1e-12;
            w.WriteLine($"goal: default median final regret {F(ourDefault.Value)} <= {method} {F(regret)}: {(ok ? "MET" : "NOT MET")} (ratio {(regret > 0 ? ourDefault.Value / regret : 0):0.00})");
        }

        foreach (var (method, runs) in ours.Methods.Where(m => m.Key.Contains("asha", StringComparison.Ordinal)))
        {
            var t = TimeToTarget(runs, target, ours.Budget);
            w.WriteLine($"goal: {method} reaches the full-budget random-search best with <= 1/3 of its budget: " +
                        $"{(t is { } x ? $"{x:0} epochs = {x / ours.Budget:0.00} of the budget" : "never")}: {(t is { } y && y <= ours.Budget / 3.0 ? "MET" : "NOT MET")}");
        }
    }

    /// <summary>The smallest budget at which the median over seeds of the incumbent reaches <paramref name="target"/>.</summary>
    private static double? TimeToTarget(List<List<double[]>> runs, double target, int budget)
    {
        for (var b = 1; b <= budget; b++)
        {
            if (Median(runs.Select(r => BestAt(r, b, double.NegativeInfinity))) >= target - 1e-12)
            {
                return b;
            }
        }

        return null;
    }

    private static double Median(IEnumerable<double> v) => Percentile.Linear(v.ToList(), 50);
}
