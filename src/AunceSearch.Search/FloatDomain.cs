namespace AunceSearch.Search;

/// <summary>A real parameter uniform on [Low, High], or log-uniform when <see cref="Log"/>.</summary>
public sealed record FloatDomain(string Name, double Low, double High, bool Log = false) : Domain(Name)
{
    public override void Sample(DeterministicRandom random, IDictionary<string, string> into)
    {
        var u = random.NextDouble();
        var value = Log
            ? Math.Exp(Math.Log(Low) + (u * (Math.Log(High) - Math.Log(Low))))
            : Low + (u * (High - Low));
        into[Name] = Format(Math.Clamp(value, Low, High));
    }
}
