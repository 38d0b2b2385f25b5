namespace AunceSearch.Search.Tests;

public class ConditionalSpaceTests
{
    private static readonly SearchSpace Space = new([
        new CategoricalDomain("batch_size", ["16", "64"]),
        new FloatDomain("lr", 1e-4, 1e-2, Log: true) { When = new DomainCondition("batch_size", ["64"]) },
        new FloatDomain("temperature", 0.1, 1.0),
    ]);

    public static TheoryData<string> Samplers() => ["random", "sobol", "grid", "tpe", "tpe-multivariate"];

    private static ISampler Create(string name) => name switch
    {
        "random" => new RandomSampler(3),
        "sobol" => new SobolSampler(3),
        "grid" => new GridSampler(3, 3),
        "tpe" => new TpeSampler(3),
        _ => new TpeSampler(3, new TpeOptions { Multivariate = true }),
    };

    [Theory]
    [MemberData(nameof(Samplers))]
    public void A_conditional_parameter_appears_exactly_when_its_condition_holds(string name)
    {
        var sampler = Create(name);
        var history = new List<Observation>();
        var seen = new HashSet<string>();
        for (var t = 0; t < 18; t++)
        {
            var c = sampler.Sample(Space, t, history);
            Assert.Equal(c["batch_size"] == "64", c.ContainsKey("lr"));
            Assert.True(c.ContainsKey("temperature"));
            seen.Add(c["batch_size"]);
            history.Add(new Observation(t, c, ObservationState.Complete, double.Parse(c["temperature"], System.Globalization.CultureInfo.InvariantCulture), 1));
        }

        Assert.Equal(2, seen.Count);
    }

    [Fact]
    public void A_condition_on_a_later_or_unknown_parameter_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new SearchSpace([
            new FloatDomain("lr", 1e-4, 1e-2) { When = new DomainCondition("batch_size", ["64"]) },
            new CategoricalDomain("batch_size", ["16", "64"]),
        ]));
        Assert.Contains("conditional on 'batch_size', which must be defined before it", e.Message);
    }
}
