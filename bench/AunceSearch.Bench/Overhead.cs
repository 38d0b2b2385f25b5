using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using AunceSearch.Model;
using AunceSearch.Search;
using AunceSearch.Search.Pruners;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Bench;

/// <summary>Scheduler decisions per second and TPE suggestion latency with 1,000 finished trials.</summary>
public static class Overhead
{
    public static void Run(TextWriter w)
    {
        // A stream of fold-averaged reports: 1,000 trials × 100 steps, interleaved, as a large sweep produces them.
        const int trials = 1000, steps = 100;
        var reports = new TrialReport[trials * steps];
        var rng = new DeterministicRandom(1);
        for (var s = 0; s < steps; s++)
        {
            for (var t = 0; t < trials; t++)
            {
                reports[(s * trials) + t] = new TrialReport(t, s + 1, rng.NextDouble() + (s * 0.01));
            }
        }

        w.WriteLine($"scheduler decisions on {reports.Length:N0} reports (1,000 trials x 100 steps, interleaved), best of 3 runs:");
        Measure(w, "asha stopping (Ray rule), rungs 1/4/16/64", () =>
        {
            var asha = new AshaStoppingRule(new AshaOptions { GracePeriod = 1, ReductionFactor = 4, MaxT = 100 });
            var st = asha.NewState();
            foreach (var r in reports)
            {
                asha.OnReport(st, r);
            }
        }, reports.Length);
        Measure(w, "asha promotion, rungs 1/4/16/64/100 (+ next-job)", () =>
        {
            var asha = new AshaPromotionScheduler(new AshaOptions { GracePeriod = 1, ReductionFactor = 4, MaxT = 100 });
            var st = asha.NewState();
            foreach (var r in reports)
            {
                asha.OnReport(st, r);
            }
        }, reports.Length);
        Measure(w, "median stopping rule (Vizier)", () =>
        {
            var rule = new MedianStoppingRule(10, 3, Direction.Maximize);
            var st = new StudyState();
            for (var i = 0; i < reports.Length; i++)
            {
                var r = reports[i];
                rule.Report(st, r.Trial, r.Step, r.Value);
                if (r.Step == steps && r.Trial < 5)
                {
                    st.Complete(r.Trial);
                }
            }
        }, reports.Length, sample: 20_000);

        var space = new SearchSpace([
            new FloatDomain("lr", 1e-5, 1e-2, Log: true),
            new FloatDomain("temperature", 0.05, 1.0, Log: true),
            new FloatDomain("lambda_min", 0.5, 2.0),
            new FloatDomain("lambda_maj", 0.0, 1.5),
            new IntDomain("batch_size", 16, 256, Step: 16),
            new SimplexDomain("positives", ["p_max", "p_aug", "p_mix", "p_min"], ImmutableDictionary<string, double>.Empty.Add("p_min", 0)),
        ]);
        var history = new List<Observation>();
        var random = new RandomSampler(3);
        for (var t = 0; t < 1000; t++)
        {
            var c = random.Sample(space, t);
            history.Add(new Observation(t, c, t % 10 == 0 ? ObservationState.Pruned : ObservationState.Complete, rng.NextDouble(), 8));
        }

        foreach (var multivariate in new[] { false, true })
        {
            var tpe = new TpeSampler(7, new TpeOptions { Multivariate = multivariate, ConstantLiar = true });
            for (var i = 0; i < 5; i++)
            {
                tpe.Sample(space, 1000 + i, history); // warm-up (JIT)
            }

            var times = new List<double>();
            for (var i = 0; i < 50; i++)
            {
                var sw = Stopwatch.StartNew();
                tpe.Sample(space, 2000 + i, history);
                times.Add(sw.Elapsed.TotalMilliseconds);
            }

            var median = Percentile.Linear(times, 50);
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"tpe suggestion ({(multivariate ? "multivariate" : "univariate")}, 7 coordinates, 1,000 finished trials): median {median:0.00} ms, p90 {Percentile.Linear(times, 90):0.00} ms  goal <= 5 ms: {(median <= 5 ? "MET" : "NOT MET")}"));
        }
    }

    private static void Measure(TextWriter w, string name, Action run, int count, int? sample = null)
    {
        run(); // warm-up
        var best = double.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            run();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }

        var rate = count / best;
        var goal = sample is null ? $"  goal >= 1,000,000/s: {(rate >= 1_000_000 ? "MET" : "NOT MET")}" : "  (reference)";
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-52} {rate,14:N0} decisions/s{goal}"));
    }
}
