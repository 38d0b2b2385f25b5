using System.Collections.Immutable;
using System.Globalization;

namespace AunceSearch.Search;

/// <summary>
/// Quasi-random search with a Sobol sequence (Joe–Kuo direction numbers), scrambled by a seeded random digital shift:
/// the first 2^k trials stratify every single coordinate into 2^k equal intervals, with no clumping or gaps as random
/// search has. One coordinate per real/integer/categorical parameter and one per free simplex component (a Dirichlet(1)
/// draw by inverse CDF). Coordinates beyond the 10 tabulated dimensions fall back to seeded random numbers.
/// </summary>
public sealed class SobolSampler : ISampler
{
    // Joe & Kuo (2008), new-joe-kuo-6.21201: (s, a, m_1..m_s) for dimensions 2..10.
    private static readonly (int S, int A, int[] M)[] Table =
    [
        (1, 0, [1]),
        (2, 1, [1, 3]),
        (3, 1, [1, 3, 1]),
        (3, 2, [1, 1, 1]),
        (4, 1, [1, 1, 3, 3]),
        (4, 4, [1, 3, 5, 13]),
        (5, 2, [1, 1, 5, 5, 17]),
        (5, 4, [1, 1, 5, 5, 5]),
        (5, 7, [1, 1, 7, 11, 19]),
    ];

    private const int Bits = 32;
    private static readonly uint[][] Directions = BuildDirections();

    public SobolSampler(ulong seed) => Seed = seed;

    public ulong Seed { get; }

    public static int MaxDimensions => Directions.Length;

    /// <summary>Point <paramref name="index"/> of the shifted sequence in dimension <paramref name="dim"/>, in [0, 1).</summary>
    public double Coordinate(long index, int dim)
    {
        if (dim >= Directions.Length)
        {
            return new DeterministicRandom(Seed, (ulong)index, (ulong)dim, 0x736f626f6cUL).NextDouble();
        }

        uint x = 0;
        var v = Directions[dim];
        for (var b = 0; b < Bits && (index >> b) != 0; b++)
        {
            if (((index >> b) & 1) != 0)
            {
                x ^= v[b];
            }
        }

        x ^= (uint)new DeterministicRandom(Seed, (ulong)dim, 0x7368696674UL).NextUInt64();
        return x / 4294967296.0;
    }

    public ImmutableSortedDictionary<string, string> Sample(SearchSpace space, int trialNumber, IReadOnlyList<Observation> history) =>
        Sample(space, trialNumber);

    public ImmutableSortedDictionary<string, string> Sample(SearchSpace space, int trialNumber)
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var config = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var dim = 0;
        foreach (var d in space.Domains)
        {
            switch (d)
            {
                case FloatDomain f:
                    var u = Coordinate(trialNumber, dim++);
                    config[f.Name] = F(Math.Clamp(f.Log ? Math.Exp(Math.Log(f.Low) + (u * (Math.Log(f.High) - Math.Log(f.Low)))) : f.Low + (u * (f.High - f.Low)), f.Low, f.High));
                    break;
                case IntDomain n:
                    var count = ((n.High - n.Low) / n.Step) + 1;
                    var ui = Coordinate(trialNumber, dim++);
                    var value = n.Log
                        ? Math.Clamp((long)Math.Floor(Math.Exp(Math.Log(n.Low) + (ui * (Math.Log(n.High + 1.0) - Math.Log(n.Low))))), n.Low, n.High)
                        : n.Low + (Math.Min((long)(ui * count), count - 1) * n.Step);
                    config[n.Name] = value.ToString(CultureInfo.InvariantCulture);
                    break;
                case CategoricalDomain c:
                    config[c.Name] = c.Choices[Math.Min((int)(Coordinate(trialNumber, dim++) * c.Choices.Length), c.Choices.Length - 1)];
                    break;
                case FixedDomain x:
                    config[x.Name] = x.Value;
                    break;
                case SimplexDomain s:
                    var free = s.Components.Where(c => !s.Fixed.ContainsKey(c)).ToArray();
                    var e = free.Select(_ => -Math.Log(1 - Coordinate(trialNumber, dim++))).ToArray();
                    var total = e.Sum();
                    var mass = s.Budget - s.Fixed.Values.Sum();
                    for (var i = 0; i < free.Length; i++)
                    {
                        config[free[i]] = F(total > 0 ? mass * e[i] / total : mass / free.Length);
                    }

                    foreach (var (k, v) in s.Fixed)
                    {
                        config[k] = F(v);
                    }

                    break;
                default:
                    throw new NotSupportedException($"Sobol cannot sample {d.GetType().Name}");
            }
        }

        return space.Prune(config.ToImmutable());
    }

    private static uint[][] BuildDirections()
    {
        var dims = new List<uint[]>();
        var first = new uint[Bits];
        for (var k = 0; k < Bits; k++)
        {
            first[k] = 1u << (Bits - 1 - k);
        }

        dims.Add(first);
        foreach (var (s, a, m) in Table)
        {
            var v = new uint[Bits];
            for (var k = 0; k < Bits; k++)
            {
                if (k < s)
                {
                    v[k] = (uint)m[k] << (Bits - 1 - k);
                }
                else
                {
                    v[k] = v[k - s] ^ (v[k - s] >> s);
                    for (var l = 1; l < s; l++)
                    {
                        if (((a >> (s - 1 - l)) & 1) != 0)
                        {
                            v[k] ^= v[k - l];
                        }
                    }
                }
            }

            dims.Add(v);
        }

        return [.. dims];
    }
}
