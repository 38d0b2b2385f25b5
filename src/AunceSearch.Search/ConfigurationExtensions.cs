using System.Globalization;

namespace AunceSearch.Search;

/// <summary>Reading typed values out of a configuration (parameter name → invariant string).</summary>
public static class ConfigurationExtensions
{
    public static double GetDouble(this IReadOnlyDictionary<string, string> config, string name, double fallback) =>
        config.TryGetValue(name, out var s) ? double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture) : fallback;

    public static int GetInt(this IReadOnlyDictionary<string, string> config, string name, int fallback) =>
        config.TryGetValue(name, out var s) ? int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture) : fallback;

    public static string GetString(this IReadOnlyDictionary<string, string> config, string name, string fallback) =>
        config.TryGetValue(name, out var s) ? s : fallback;
}
