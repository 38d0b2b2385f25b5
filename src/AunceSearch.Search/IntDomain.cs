using System.Globalization;

namespace AunceSearch.Search;

/// <summary>An integer parameter in [Low, High] with an optional step, or log-uniform when <see cref="Log"/>.</summary>
public sealed record IntDomain(string Name, long Low, long High, long Step = 1, bool Log = false) : Domain(Name)
{
    public override void Sample(DeterministicRandom random, IDictionary<string, string> into)
    {
        long value;
        if (Log)
        {
            var x = Math.Exp(Math.Log(Low) + (random.NextDouble() * (Math.Log(High + 1.0) - Math.Log(Low))));
            value = Math.Clamp((long)Math.Floor(x), Low, High);
        }
        else
        {
            var count = ((High - Low) / Step) + 1;
            value = Low + ((long)(random.NextDouble() * count) * Step);
        }

        into[Name] = value.ToString(CultureInfo.InvariantCulture);
    }
}
