using System.Collections.Immutable;
using System.Globalization;

namespace AunceSearch.Search.Schedulers;

/// <summary>
/// Population-based training as a trial scheduler the coordinator runs like promotion ASHA: a trial trains in legs that
/// end at its perturbation points (every <c>perturbation_interval</c> epochs after the burn-in), pauses there, and
/// <see cref="PbtExploitRule"/> decides its next leg — continue from its own checkpoint, or exploit: continue from a
/// top-quantile trial's latest checkpoint with that trial's configuration, explored. The population starts first (new
/// trials before legs); then the least advanced waiting trial runs, so the population moves forward together. Trials
/// complete at max_t; PBT never stops a trial.
/// </summary>
public sealed class PbtTrialScheduler(int maxSteps, PbtExploitRule pbt) : ITrialScheduler
{
    public string Name => "pbt";

    public int MaxSteps => maxSteps;

    public PbtOptions Options => pbt.Options;

    public SchedulerState NewState() => new PbtSchedulerState();

    public void OnTrialConfig(SchedulerState state, int trial, IReadOnlyDictionary<string, string> config) =>
        ((PbtSchedulerState)state).Configs[trial] = new SortedDictionary<string, string>(config.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);

    /// <summary>The first step at or after <paramref name="from"/> + 1 where a trial last perturbed at <paramref name="from"/> perturbs again.</summary>
    public int NextPerturbation(int from) => Math.Min(maxSteps, Math.Max(from + Options.PerturbationInterval, Options.BurnInPeriod));

    public SchedulerDecision OnReport(SchedulerState schedulerState, TrialReport r)
    {
        var state = (PbtSchedulerState)schedulerState;
        state.Study.Trial(r.Trial).Values[r.Step] = r.Value;
        if (r.Step >= maxSteps)
        {
            state.Pbt.Scores[r.Trial] = r.Value;
            state.Study.Trial(r.Trial).Phase = Pruners.TrialPhase.Complete;
            return new SchedulerDecision(r.Trial, r.Step, DecisionKind.Complete, r.Value, null, r.Step, null, null, 0,
                Fmt($"completed at step {r.Step}: {r.Value:0.0000}"));
        }

        var configs = state.Configs.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, string>)kv.Value);
        var d = pbt.OnReport(state.Pbt, r.Trial, r.Step, r.Value, configs);
        if (d.Decision.Kind == DecisionKind.Continue && state.Pbt.LastPerturbation.GetValueOrDefault(r.Trial, 0) != r.Step)
        {
            return d.Decision;   // between perturbation points
        }

        // A perturbation point: the trial waits here for its next leg.
        PbtLeg leg;
        if (d.Source is { } source && LastStep(state, source) is { } from && from >= r.Step && from < maxSteps)
        {
            leg = new PbtLeg(r.Step, from, NextPerturbation(from), source, new SortedDictionary<string, string>(d.Config!, StringComparer.Ordinal), d.Decision);
        }
        else
        {
            var why = d.Source is null ? d.Decision.Reason : Fmt($"continues: its exploit source trial {d.Source} has no checkpoint at or after step {r.Step} and before max_t");
            leg = new PbtLeg(r.Step, r.Step, NextPerturbation(r.Step), null, null, d.Decision with { Kind = DecisionKind.Promote, Reason = why });
        }

        state.Legs[r.Trial] = leg;
        return new SchedulerDecision(r.Trial, r.Step, DecisionKind.Pause, r.Value, null, r.Step, d.Decision.Cutoff, d.Decision.Rank, d.Decision.Competitors,
            Fmt($"paused at the perturbation point step {r.Step}: {r.Value:0.0000}") + (leg.Source is { } s ? Fmt($"; will exploit trial {s}") : "; will continue"));
    }

    private static int? LastStep(PbtSchedulerState state, int trial) =>
        state.Study.Trials.TryGetValue(trial, out var h) && h.Values.Count > 0 ? h.Values.Keys.Max() : null;

    public void OnTrialEnded(SchedulerState state, int trial, Pruners.TrialPhase phase)
    {
        var own = (PbtSchedulerState)state;
        pbt.End(own.Pbt, trial);
        own.Legs.Remove(trial);
    }

    public SchedulerPlan NextJob(SchedulerState state, bool mayStartNew, IReadOnlyCollection<int> running) => SchedulerPlan.Run(Next((PbtSchedulerState)state, mayStartNew, running));

    private SchedulerJob? Next(PbtSchedulerState state, bool mayStartNew, IReadOnlyCollection<int> running)
    {
        if (mayStartNew)
        {
            var trial = state.Started++;
            pbt.Start(state.Pbt, trial);
            return new SchedulerJob(trial, true, NextPerturbation(0), null);
        }

        if (state.Legs.Count == 0)
        {
            return null;
        }

        var (next, leg) = state.Legs.OrderBy(kv => kv.Value.FromStep).ThenBy(kv => kv.Key).First();
        state.Legs.Remove(next);
        if (leg.Config is { } config)
        {
            state.Configs[next] = config;
        }

        return new SchedulerJob(next, false, leg.TargetStep, leg.Decision, leg.Source, leg.Config?.ToImmutableSortedDictionary(StringComparer.Ordinal),
            leg.Source is null ? null : leg.FromStep);
    }

    public IReadOnlyList<SchedulerDecision> Finish(SchedulerState state) => [];

    private static string Fmt(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
