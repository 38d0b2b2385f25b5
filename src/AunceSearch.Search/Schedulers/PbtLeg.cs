namespace AunceSearch.Search.Schedulers;

/// <summary>The leg a PBT trial runs next: from <see cref="FromStep"/> to <see cref="TargetStep"/>, from its own or <see cref="Source"/>'s checkpoint.</summary>
public sealed record PbtLeg(int Step, int FromStep, int TargetStep, int? Source, SortedDictionary<string, string>? Config, SchedulerDecision Decision);
