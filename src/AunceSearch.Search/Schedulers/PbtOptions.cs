using System.Collections.Immutable;
using AunceSearch.Model;

namespace AunceSearch.Search.Schedulers;

/// <summary>Population-based training settings (Ray Tune's defaults, with the interval in steps).</summary>
public sealed record PbtOptions
{
    public int PerturbationInterval { get; init; } = 4;

    public int BurnInPeriod { get; init; }

    public double QuantileFraction { get; init; } = 0.25;

    public double ResampleProbability { get; init; } = 0.25;

    public ImmutableArray<double> PerturbationFactors { get; init; } = [1.2, 0.8];

    public Direction Direction { get; init; } = Direction.Maximize;
}
