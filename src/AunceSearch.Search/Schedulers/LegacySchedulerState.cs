namespace AunceSearch.Search.Schedulers;

/// <summary>
/// A scheduler state stored before each scheduler had a type of its own: one bag of every scheduler's fields, JSON without
/// <c>$kind</c>. Read by <see cref="SchedulerStateJson"/>, then moved into the state of the scheduler that owns it
/// (<see cref="ITrialScheduler.Adopt"/>); never written.
/// </summary>
internal sealed class LegacySchedulerState : SchedulerState
{
    public List<Dictionary<int, double>> Rungs { get; set; } = [];

    public List<List<int>> Promoted { get; set; } = [];

    public SortedDictionary<int, int> Paused { get; set; } = [];

    public SortedDictionary<int, int> Bracket { get; set; } = [];

    public int CurrentBracket { get; set; }

    public int CurrentRung { get; set; }

    public bool CurrentRungCut { get; set; }

    public List<Dictionary<int, double[]>> ObjectiveRungs { get; set; } = [];

    public PbtState? Pbt { get; set; }

    public SortedDictionary<int, SortedDictionary<string, string>> Configs { get; set; } = [];

    public SortedDictionary<int, PbtLeg> Legs { get; set; } = [];

    public SortedDictionary<int, int> TargetRung { get; set; } = [];

    /// <summary>The bag's fields moved into <paramref name="fresh"/> (a new state of the scheduler that owns them).</summary>
    public SchedulerState Into(SchedulerState fresh)
    {
        fresh.Study = Study;
        fresh.Started = Started;
        switch (fresh)
        {
            case AshaPromotionState a:
                (a.Rungs, a.Promoted, a.Paused) = (Rungs, Promoted, Paused);
                break;
            case AshaStoppingState a:
                a.Rungs = Rungs;
                break;
            case MultiObjectiveSchedulerState m:
                m.ObjectiveRungs = ObjectiveRungs;
                break;
            case SynchronousHyperbandState h:
                (h.Bracket, h.CurrentBracket, h.CurrentRung, h.CurrentRungCut, h.Paused, h.TargetRung) = (Bracket, CurrentBracket, CurrentRung, CurrentRungCut, Paused, TargetRung);
                break;
            case PbtSchedulerState p:
                (p.Pbt, p.Configs, p.Legs) = (Pbt ?? new PbtState(), Configs, Legs);
                break;
        }

        return fresh;
    }
}
