using System.Collections.Immutable;

namespace AunceSearch.Search.Schedulers;

/// <summary>A PBT decision: Continue, or Exploit (copy <see cref="Source"/>'s checkpoint and train on with <see cref="Config"/>).</summary>
public sealed record PbtDecision(SchedulerDecision Decision, int? Source, ImmutableSortedDictionary<string, string>? Config);
