using System.Collections.Immutable;
using System.Globalization;

namespace AunceSearch.Search;

/// <summary>
/// Exhaustive grid search: every combination of each domain's grid values, visited in a seeded random order (as
/// Optuna's GridSampler does) so that a truncated grid is still a uniform sample. Real ranges get
/// <see cref="PointsPerRange"/> evenly spaced points (log-spaced for log scales), integers every step (or the same number
/// of points if there are more), categoricals every choice, simplexes every point of a lattice with that many steps.
/// </summary>
public sealed class GridSampler : ISampler
{
    public GridSampler(ulong seed, int pointsPerRange = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pointsPerRange, 2);
        Seed = seed;
        PointsPerRange = pointsPerRange;
    }

    public ulong Seed { get; }

    public int PointsPerRange { get; }

    /// <summary>Every grid point of each domain, as partial configurations.</summary>
    public IReadOnlyList<IReadOnlyList<IReadOnlyDictionary<string, string>>> Axes(SearchSpace space) =>
        [.. space.Domains.Select(d => (IReadOnlyList<IReadOnlyDictionary<string, string>>)Points(d))];

    /// <summary>The number of grid points.</summary>
    public long Size(SearchSpace space) => Axes(space).Aggregate(1L, (n, a) => checked(n * a.Count));

    public ImmutableSortedDictionary<string, string> Sample(SearchSpace space, int trialNumber, IReadOnlyList<Observation> history) =>
        Sample(space, trialNumber);

    public ImmutableSortedDictionary<string, string> Sample(SearchSpace space, int trialNumber)
    {
        var axes = Axes(space);
        var size = axes.Aggregate(1L, (n, a) => checked(n * a.Count));
        if (trialNumber >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(trialNumber), trialNumber, $"the grid has only {size} points");
        }

        var index = Permute(trialNumber, size);
        var config = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var axis in axes)
        {
            var point = axis[(int)(index % axis.Count)];
            index /= axis.Count;
            foreach (var (k, v) in point)
            {
                config[k] = v;
            }
        }

        return space.Prune(config.ToImmutable());
    }

    /// <summary>A seeded bijection of [0, size): a Fisher–Yates permutation for grids up to a million points.</summary>
    private long Permute(long i, long size)
    {
        if (size > 1_000_000)
        {
            return i;
        }

        var order = new long[size];
        for (long k = 0; k < size; k++)
        {
            order[k] = k;
        }

        var rng = new DeterministicRandom(Seed, 0x6772696400UL);
        for (var k = size - 1; k > 0; k--)
        {
            var j = (long)(rng.NextDouble() * (k + 1));
            (order[k], order[j]) = (order[j], order[k]);
        }

        return order[i];
    }

    private List<IReadOnlyDictionary<string, string>> Points(Domain d)
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        IReadOnlyDictionary<string, string> One(string name, string value) => new Dictionary<string, string> { [name] = value };
        switch (d)
        {
            case FloatDomain f:
                return [.. Enumerable.Range(0, PointsPerRange).Select(i =>
                {
                    var t = i / (double)(PointsPerRange - 1);
                    var v = f.Log ? Math.Exp(Math.Log(f.Low) + (t * (Math.Log(f.High) - Math.Log(f.Low)))) : f.Low + (t * (f.High - f.Low));
                    return One(f.Name, F(i == PointsPerRange - 1 ? f.High : v));
                })];
            case IntDomain n:
                var count = ((n.High - n.Low) / n.Step) + 1;
                if (count <= PointsPerRange)
                {
                    return [.. Enumerable.Range(0, (int)count).Select(i => One(n.Name, (n.Low + (i * n.Step)).ToString(CultureInfo.InvariantCulture)))];
                }

                return [.. Enumerable.Range(0, PointsPerRange).Select(i => One(n.Name,
                    (n.Low + ((long)Math.Round(i * (count - 1) / (double)(PointsPerRange - 1)) * n.Step)).ToString(CultureInfo.InvariantCulture)))];
            case CategoricalDomain c:
                return [.. c.Choices.Select(v => One(c.Name, v))];
            case FixedDomain x:
                return [One(x.Name, x.Value)];
            case SimplexDomain s:
                var free = s.Components.Where(c => !s.Fixed.ContainsKey(c)).ToArray();
                var mass = s.Budget - s.Fixed.Values.Sum();
                var steps = PointsPerRange - 1;
                var result = new List<IReadOnlyDictionary<string, string>>();
                void Walk(int index, int left, Dictionary<string, string> acc)
                {
                    if (index == free.Length - 1)
                    {
                        acc[free[index]] = F(mass * left / steps);
                        var point = new Dictionary<string, string>(acc);
                        foreach (var (k, v) in s.Fixed)
                        {
                            point[k] = F(v);
                        }

                        result.Add(point);
                        return;
                    }

                    for (var units = 0; units <= left; units++)
                    {
                        acc[free[index]] = F(mass * units / steps);
                        Walk(index + 1, left - units, acc);
                    }
                }

                Walk(0, steps, []);
                return result;
            default:
                throw new NotSupportedException($"no grid for domain {d.GetType().Name}");
        }
    }
}
