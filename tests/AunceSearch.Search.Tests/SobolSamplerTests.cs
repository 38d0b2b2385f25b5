namespace AunceSearch.Search.Tests;

public class SobolSamplerTests
{
    [Theory]
    [InlineData(0UL)]
    [InlineData(42UL)]
    public void The_first_power_of_two_points_stratify_every_coordinate(ulong seed)
    {
        var sobol = new SobolSampler(seed);
        const int n = 64;
        for (var dim = 0; dim < SobolSampler.MaxDimensions; dim++)
        {
            var cells = Enumerable.Range(0, n).Select(i => (int)(sobol.Coordinate(i, dim) * n)).Order().ToArray();
            Assert.Equal(Enumerable.Range(0, n), cells);
        }
    }

    [Fact]
    public void The_first_two_coordinates_form_a_net_every_elementary_square_holds_one_point()
    {
        var sobol = new SobolSampler(7);
        const int n = 64;
        var cells = Enumerable.Range(0, n).Select(i => ((int)(sobol.Coordinate(i, 0) * 8), (int)(sobol.Coordinate(i, 1) * 8))).Distinct().Count();
        Assert.Equal(n, cells);
    }

    [Fact]
    public void Unscrambled_dimension_one_is_the_van_der_corput_sequence_up_to_the_shift()
    {
        var a = new SobolSampler(1);
        var shift = a.Coordinate(0, 0);
        Assert.Equal(0.5, (a.Coordinate(1, 0) * 4294967296.0) is var x ? ((uint)x ^ (uint)(shift * 4294967296.0)) / 4294967296.0 : 0, 12);
    }

    [Fact]
    public void Sobol_covers_a_box_more_evenly_than_random_search()
    {
        var space = new SearchSpace([new FloatDomain("a", 0, 1), new FloatDomain("b", 0, 1)]);
        static int EmptyCells(ISampler s, SearchSpace space)
        {
            var filled = new HashSet<(int, int)>();
            for (var t = 0; t < 64; t++)
            {
                var c = s.Sample(space, t, []);
                filled.Add(((int)(double.Parse(c["a"], System.Globalization.CultureInfo.InvariantCulture) * 8), (int)(double.Parse(c["b"], System.Globalization.CultureInfo.InvariantCulture) * 8)));
            }

            return 64 - filled.Count;
        }

        Assert.Equal(0, EmptyCells(new SobolSampler(3), space));
        Assert.True(EmptyCells(new RandomSampler(3), space) > 10);
    }
}
