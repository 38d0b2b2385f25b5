using AunceSearch.Contracts;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Coordination;

/// <summary>
/// Which checkpoints a sweep keeps (its <see cref="CheckpointRetention"/>), decided as trials report and end: the commands
/// to delete the rest go to <paramref name="emit"/>. Under <see cref="RetentionKind.All"/> it decides nothing. Pure: it
/// reads and updates <see cref="CoordinatorState.Retained"/> and the trials, nothing else.
/// </summary>
/// <param name="seeded">Whether legs may start from another trial's checkpoint (PBT's exploits): those are spared.</param>
/// <param name="queuedLegs">PBT's decided legs waiting for a slot (their sources are spared too).</param>
public sealed class RetentionPolicy(CheckpointRetention retention, CoordinatorState state, TrialRanking ranking, bool seeded,
    Func<IEnumerable<PbtLeg>> queuedLegs, Action<CoordinatorCommand> emit)
{
    /// <summary>
    /// Best-k retention when <paramref name="trial"/> has ended (every path that ends a trial calls this; again is
    /// harmless): the best K ended trials (ordered as <see cref="TrialRanking"/>; failed ones never) keep their latest epoch; the
    /// trial that drops out of them, or never enters, loses every checkpoint. O(K log K) a call: no scan of the sweep.
    /// </summary>
    public void Ended(int trial)
    {
        if (retention.Keep != RetentionKind.BestK || !state.Trials.TryGetValue(trial, out var ended))
        {
            return;
        }

        if (ended.State == TrialState.Failed || ended.LastValue is null)
        {
            state.Retained.Remove(trial);
            Prune(trial, int.MaxValue);
            return;
        }

        var ranked = state.Retained.Append(trial).Distinct().Select(t => state.Trials[t]).ToList();
        ranked.Sort(ranking);
        var kept = ranked.Take(retention.K).Select(t => t.Trial).ToList();
        foreach (var t in ranked.Skip(retention.K))
        {
            Prune(t.Trial, int.MaxValue);
        }

        state.Retained = [.. kept.Order()];
        if (kept.Contains(trial))
        {
            PruneEnded(trial);
        }

        if (ended.SeedTrial is { } source && state.Trials.TryGetValue(source, out var s) && s.State is TrialState.Completed or TrialState.Pruned or TrialState.Failed)
        {
            PruneEnded(source);   // this leg no longer needs what it started from
        }
    }

    /// <summary>An ended trial's checkpoints: its latest epoch if it is among the best K, else none.</summary>
    public void PruneEnded(int trial)
    {
        if (retention.Keep != RetentionKind.BestK)
        {
            return;
        }

        var last = state.Trials[trial].LastEpoch;
        if (state.Retained.Contains(trial))
        {
            Prune(trial, last, last);
        }
        else
        {
            Prune(trial, int.MaxValue);
        }
    }

    /// <summary>
    /// Deletes a trial's checkpoints before <paramref name="keepFrom"/>, sparing what a running or paused PBT leg started
    /// from and what a queued exploit leg (decided, waiting for a slot) will start from.
    /// </summary>
    public void Prune(int trial, int keepFrom, int keepThrough = int.MaxValue)
    {
        if (retention.Keep != RetentionKind.BestK)
        {
            return;
        }

        var all = keepFrom == int.MaxValue;   // delete everything: then the kept range is just the seeds'
        void Spare(int epoch)
        {
            (keepFrom, keepThrough) = all ? (epoch, epoch) : (Math.Min(keepFrom, epoch), Math.Max(keepThrough, epoch));
            all = false;
        }

        if (seeded)   // only PBT's exploit legs start from a seed
        {
            foreach (var t in state.Trials.Values)
            {
                if (t.SeedTrial == trial && t.SeedEpoch is { } epoch && t.State is TrialState.Running or TrialState.Paused)
                {
                    Spare(epoch);
                }
            }

            // A trial paused at its perturbation point whose next leg exploits this one: its seed is set only when the leg
            // starts, which can be after this trial has ended.
            foreach (var leg in queuedLegs())
            {
                if (leg.Source == trial)
                {
                    Spare(leg.FromStep);
                }
            }
        }

        if (keepFrom > 1 || keepThrough != int.MaxValue)
        {
            emit(new PruneCheckpoints(trial, keepFrom, keepThrough));
        }
    }
}
