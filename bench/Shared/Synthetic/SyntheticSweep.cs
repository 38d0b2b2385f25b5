using AunceSearch.Contracts;
using AunceSearch.Coordination;
using AunceSearch.Search;
using AunceSearch.Search.Pruners;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Bench.Synthetic;

/// <summary>
/// Benchmark and test scaffolding (not in the product's assemblies: compiled into the tests and benchmarks that use it).
/// A finished sweep of any size written straight into coordinator state, for measuring dashboards and the HTTP API at
/// sizes no test can train (100,000 trials): configurations are the definition's own random draws, learning curves rise
/// towards a smooth function of the hyperparameters plus noise, trials are stopped ASHA-style (half at each rung, with
/// the decision and its evidence recorded), and every trial carries per-fold, per-AU metrics and baselines as a real
/// sweep's would. The snapshot loads through the same path as a real one. Deterministic in the seed.
/// </summary>
public static class SyntheticSweep
{
    /// <summary>BP4D's 12 AUs, as the synthetic AU-face dataset uses.</summary>
    private static readonly string[] Aus = ["AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU14", "AU15", "AU17", "AU23", "AU24"];

    /// <summary>The snapshot of a completed sweep of <paramref name="trials"/> trials over <paramref name="definition"/>'s space and folds.</summary>
    public static byte[] Snapshot(SweepDefinition definition, string sweepId, int trials, Func<int, int, int, string> checkpointKey)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, 1);
        var spec = definition with { Search = definition.Search with { Trials = trials } };
        var space = spec.Search.Space.ToSpace();
        var sampler = new RandomSampler(spec.Seed);
        var epochs = spec.Training.Epochs;
        var folds = spec.Folds;
        var state = new CoordinatorState { Definition = spec, State = SweepState.Completed, NextTrial = trials };

        // The scheduler's state as promotion ASHA leaves it (every report's value, each rung's results and promotions), so
        // that a restored synthetic sweep parses as much scheduler state as a real one of its size.
        var scheduler = spec.CreateScheduler(sweepId, space);
        var schedulerState = scheduler.NewState();
        var promotion = schedulerState as AshaPromotionState;
        var rungSteps = (scheduler as AshaPromotionScheduler)?.RungSteps ?? [];
        var rungsPassed = new int[trials];
        var values = new double[trials][];
        for (var n = 0; n < trials; n++)
        {
            var random = new DeterministicRandom(spec.Seed, 0x5157_4545UL, (ulong)n);
            var config = sampler.Sample(space, n);
            var quality = Quality(config, random);

            // ASHA with grace 1 and reduction 2, approximated per trial: each rung keeps the better half.
            var reached = 1;
            while (reached < epochs && quality > Threshold(reached, random))
            {
                reached *= 2;
            }

            reached = Math.Min(reached, epochs);
            rungsPassed[n] = reached;
            values[n] = [.. Enumerable.Range(1, reached).Select(e => Math.Round(quality * (1 - (0.6 * Math.Exp(-e / 2.0))), 4))];
            var last = values[n][^1];
            var foldReports = folds.Select((f, k) => Fold(n, f, reached, last, random, checkpointKey)).ToArray();
            var stateOf = reached >= epochs ? TrialState.Completed : TrialState.Pruned;
            var history = schedulerState.Study.Trial(n);
            history.Phase = stateOf == TrialState.Completed ? TrialPhase.Complete : TrialPhase.Pruned;
            for (var e = 1; e <= reached; e++)
            {
                history.Values[e] = values[n][e - 1];
            }

            for (var k = 0; promotion is not null && k < rungSteps.Count && rungSteps[k] <= reached; k++)
            {
                promotion.Rungs[k][n] = values[n][rungSteps[k] - 1];
                if (rungSteps[k] < reached)
                {
                    promotion.Promoted[k].Add(n);
                }
            }

            state.Trials[n] = new TrialSummary
            {
                Trial = n,
                State = stateOf,
                Hyperparameters = new Dictionary<string, string>(config, StringComparer.Ordinal),
                LastEpoch = reached,
                TargetEpoch = reached,
                LastValue = last,
                LastMeanF1 = last,
                LastMeanAccuracy = Math.Round(0.6 + (last / 3), 4),
                LastCheckpoints = [.. foldReports.Select(r => r.CheckpointLocation)],
                LastCheckpointKeys = [.. foldReports.Select(r => r.CheckpointKey)],
                History = values[n],
                FoldHistory = [.. foldReports.Select((f, k) => values[n].Select(v => Math.Round(Math.Clamp(v + (0.01 * (k - 1)), 0, 1), 4)).ToArray())],
                LastFolds = foldReports,
            };
            if (stateOf == TrialState.Pruned)
            {
                var cutoff = Math.Round(last + 0.001 + (0.02 * random.NextDouble()), 4);
                state.Decisions.Add(new DecisionRecord(n, reached, "stop", last, Rung(reached), cutoff, 2 + random.NextInt(8), 10,
                    $"stopped at rung {Rung(reached)}: {last:0.0000} < cutoff {cutoff:0.0000}"));
            }
            else
            {
                state.Decisions.Add(new DecisionRecord(n, reached, "complete", last, null, null, null, 0, $"completed all {epochs} epochs"));
            }
        }

        schedulerState.Started = trials;
        state.SchedulerState = SchedulerStateJson.Serialize(schedulerState);
        state.Inputs = trials;
        state.Sequence = 1;
        state.Events.Add(new SweepEvent(1, "sweep", -1, null, null, null, "completed", $"synthetic sweep of {trials} trials"));
        return CoordinatorSnapshot.Encode(state);
    }

    private static int Rung(int epoch) => (int)Math.Round(Math.Log2(epoch));

    /// <summary>A trial's final F1: best near the paper's region (lr 1e-3, temperature 0.1, λ 1.2/0.4, mostly mixed positives), with noise.</summary>
    private static double Quality(IReadOnlyDictionary<string, string> config, DeterministicRandom random)
    {
        double Log(string name, double at) => config.TryGetValue(name, out _) ? Math.Log10(config.GetDouble(name, at) / at) : 0;
        double Lin(string name, double at) => config.TryGetValue(name, out _) ? config.GetDouble(name, at) - at : 0;
        var distance = (Log("lr", 1e-3) * Log("lr", 1e-3) * 1.5) + (Log("temperature", 0.1) * Log("temperature", 0.1)) +
                       (Lin("lambda_min", 1.2) * Lin("lambda_min", 1.2) * 0.3) + (Lin("lambda_maj", 0.4) * Lin("lambda_maj", 0.4) * 0.3) +
                       (Lin("p_mix", 0.7) * Lin("p_mix", 0.7) * 0.5);
        return 0.35 + (0.27 * Math.Exp(-distance)) + (0.03 * (random.NextDouble() - 0.5));
    }

    private static double Threshold(int epoch, DeterministicRandom random) => 0.40 + (0.03 * Math.Log2(epoch + 1)) + (0.02 * random.NextDouble());

    private static FoldEpochReport Fold(int trial, int fold, int epoch, double mean, DeterministicRandom random, Func<int, int, int, string> checkpointKey)
    {
        var f1 = Aus.Select(_ => Math.Round(Math.Clamp(mean + (0.25 * (random.NextDouble() - 0.5)), 0, 1), 4)).ToArray();
        var key = checkpointKey(trial, fold, epoch);
        return new FoldEpochReport(trial, fold, epoch, Math.Round(f1.Average(), 4), Math.Round(0.6 + (mean / 3), 4), Math.Round(1.5 - mean, 4), f1, 0, key, key, "synthetic")
        {
            AccuracyPerAu = [.. f1.Select(v => Math.Round(0.6 + (v / 3), 4))],
            AllActiveF1PerAu = [.. Aus.Select((_, k) => Math.Round(0.15 + (0.04 * (k % 6)), 4))],
            MajorityAccuracyPerAu = [.. Aus.Select((_, k) => Math.Round(0.92 - (0.04 * (k % 6)), 4))],
            AuNames = Aus,
        };
    }
}
