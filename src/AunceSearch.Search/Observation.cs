namespace AunceSearch.Search;

/// <summary>What a sampler may know of an earlier trial: its configuration, state, and last value at its last step.</summary>
public sealed record Observation(int Trial, IReadOnlyDictionary<string, string> Config, ObservationState State, double? Value, int Step);
