using AunceSearch.Model;
namespace AunceSearch.Search;

/// <summary>Options of asynchronous successive halving (stopping variant).</summary>
public sealed record AshaOptions
{
    public const int DefaultGracePeriod = 1;
    public const int DefaultReductionFactor = 4;

    /// <summary>The first milestone (minimum resource r), in steps (epochs).</summary>
    public int GracePeriod { get; init; } = DefaultGracePeriod;

    /// <summary>η: keep the top 1/η at each rung.</summary>
    public int ReductionFactor { get; init; } = DefaultReductionFactor;

    /// <summary>The maximum resource R; a trial reporting this step completes.</summary>
    public int MaxT { get; init; } = 100;

    public Direction Direction { get; init; } = Direction.Maximize;

    public SmallRungPolicy SmallRungPolicy { get; init; } = SmallRungPolicy.Ray;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        if (GracePeriod < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(GracePeriod), GracePeriod, "grace_period must be >= 1");
        }

        if (ReductionFactor < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(ReductionFactor), ReductionFactor, "reduction_factor must be >= 2");
        }

        if (MaxT < GracePeriod)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxT), MaxT, $"max_t must be >= grace_period ({GracePeriod})");
        }
    }

    /// <summary>The rung milestones r·η^k that are below <see cref="MaxT"/>, ascending.</summary>
    public IReadOnlyList<int> Milestones()
    {
        var list = new List<int>();
        for (long m = GracePeriod; m < MaxT; m *= ReductionFactor)
        {
            list.Add((int)m);
        }

        return list;
    }
}
