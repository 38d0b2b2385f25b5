namespace AunceSearch.Search.Pruners;

/// <summary>
/// The whole state a pruner decides from: every trial's history. Plain data: it serialises with System.Text.Json
/// (NaN included, via <see cref="StudyStateJson"/>) and a restored state gives identical decisions.
/// </summary>
public sealed class StudyState
{
    /// <summary>Each trial's history by number (a sorted list: trials are added in order, and it is smaller and faster to restore than a tree).</summary>
    public SortedList<int, TrialHistory> Trials { get; set; } = [];

    public TrialHistory Trial(int number)
    {
        if (!Trials.TryGetValue(number, out var t))
        {
            t = new TrialHistory();
            Trials[number] = t;
        }

        return t;
    }
}
