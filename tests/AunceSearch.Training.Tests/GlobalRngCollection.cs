namespace AunceSearch.Training.Tests;

/// <summary>
/// Tests that seed or draw from libtorch's process-wide generator (torch.random.manual_seed, torch.randn) run alone, so
/// that they neither disturb nor are disturbed by the trainer's seeded model construction in other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRngCollection
{
    public const string Name = "libtorch global RNG";
}
