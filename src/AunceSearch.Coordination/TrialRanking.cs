using AunceSearch.Contracts;
using AunceSearch.Model;

namespace AunceSearch.Coordination;

/// <summary>
/// How trials with a value rank: those that trained every epoch first, then by value in the sweep's direction, then the
/// lower trial number. The best trial and best-k retention both rank so.
/// </summary>
public sealed class TrialRanking(int epochs, Direction direction) : IComparer<TrialSummary>
{
    /// <summary>Negative: <paramref name="a"/> ranks first.</summary>
    public int Compare(TrialSummary? a, TrialSummary? b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var (ca, cb) = (a.LastEpoch >= epochs, b.LastEpoch >= epochs);
        var sign = direction == Direction.Maximize ? 1 : -1;
        return ca != cb ? (ca ? -1 : 1)
            : a.LastValue!.Value != b.LastValue!.Value ? -sign * a.LastValue.Value.CompareTo(b.LastValue.Value)
            : a.Trial.CompareTo(b.Trial);
    }

    /// <summary>The best trial with a value and a checkpoint, never a failed one; one pass (no sort): the overview asks on every dashboard request, and a sweep may have 100,000 trials.</summary>
    public TrialSummary? Best(IEnumerable<TrialSummary> trials)
    {
        TrialSummary? best = null;
        foreach (var t in trials)
        {
            if (t.State == TrialState.Failed || t.LastValue is null || t.LastCheckpoints.Length == 0)
            {
                continue;
            }

            if (best is null || Compare(t, best) < 0)
            {
                best = t;
            }
        }

        return best;
    }
}
