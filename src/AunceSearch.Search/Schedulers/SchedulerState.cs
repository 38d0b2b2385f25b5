using System.Text.Json.Serialization;
using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Schedulers;

/// <summary>
/// A scheduler's state, as plain data: each scheduler owns a type of its own (derived from this one, named by
/// <c>$kind</c> in JSON) holding exactly what it decides with; what every scheduler keeps — each trial's history and how
/// many trials it started — is here. Serialises with <see cref="SchedulerStateJson"/>, and a restored state makes the
/// same decisions. A state stored before the per-scheduler types (one bag of every scheduler's fields, no <c>$kind</c>)
/// is read and given to its scheduler by <see cref="ITrialScheduler.Adopt"/>.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "$kind")]
[JsonDerivedType(typeof(StudySchedulerState), "study")]
[JsonDerivedType(typeof(AshaPromotionState), "asha-promotion")]
[JsonDerivedType(typeof(AshaStoppingState), "asha-stopping")]
[JsonDerivedType(typeof(MultiObjectiveSchedulerState), "asha-multi-objective")]
[JsonDerivedType(typeof(SynchronousHyperbandState), "hyperband-sync")]
[JsonDerivedType(typeof(PbtSchedulerState), "pbt")]
public abstract class SchedulerState
{
    /// <summary>Per-trial history (values by step, phase, successive-halving records).</summary>
    public StudyState Study { get; set; } = new();

    /// <summary>How many new trials the scheduler has started.</summary>
    public int Started { get; set; }
}
