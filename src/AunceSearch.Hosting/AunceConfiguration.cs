using System.ComponentModel;
using System.Reflection;
using AunceSearch.Checkpoints;
using AunceSearch.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AunceSearch.Hosting;

/// <summary>A configuration value (<c>Aunce:*</c> from the environment, files or <c>--config</c>) is unknown, malformed or out of range.</summary>
public sealed class AunceConfigurationException(string message) : Exception(message);

/// <summary>Every <c>Aunce:*</c> setting of a host, read and checked once.</summary>
public sealed record AunceSettings(
    AunceSiloOptions Silo,
    CheckpointStoreOptions Checkpoints,
    TrainingExecutorOptions Training,
    AunceTelemetryOptions Telemetry,
    AunceClusterOptions Cluster,
    Api.AunceApiOptions Api,
    AunceTlsOptions Tls);

/// <summary>
/// Reads the <c>Aunce:*</c> configuration strictly: a key that names no setting is an error with the closest valid name
/// (a typo never silently falls back to a default), a value that does not convert to its setting's type is an error
/// naming the key and the value, and every options class's range checks run. The same checks are registered with the
/// options pattern (<c>ValidateOnStart</c>) for anything that resolves the options later.
/// </summary>
public static class AunceConfiguration
{
    /// <summary>
    /// Whether a setting holds a secret: its name ends in Token, Password, Secret, Key or ConnectionString (any case), or
    /// its value carries a password or key (a Redis or Azure connection string). Secrets are never written to a journal
    /// or printed; they come from the environment (Aunce__…) or --config each time.
    /// </summary>
    public static bool IsSecret(string key, string? value)
    {
        var name = key[(key.LastIndexOf(':') + 1)..];
        string[] names = ["token", "password", "secret", "key", "connectionstring", "sas"];
        string[] inValues = ["password=", "accountkey=", "sharedaccesssignature=", "sig="];
        return names.Any(n => name.EndsWith(n, StringComparison.OrdinalIgnoreCase)) ||
               (value is not null && inValues.Any(v => value.Contains(v, StringComparison.OrdinalIgnoreCase)));
    }

    public const string Root = "Aunce";

    /// <summary>The sections and the options class each binds to.</summary>
    public static readonly IReadOnlyDictionary<string, Type> Sections = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
    {
        ["Silo"] = typeof(AunceSiloOptions),
        ["Checkpoints"] = typeof(CheckpointStoreOptions),
        ["Training"] = typeof(TrainingExecutorOptions),
        ["Telemetry"] = typeof(AunceTelemetryOptions),
        ["Cluster"] = typeof(AunceClusterOptions),
        ["Api"] = typeof(Api.AunceApiOptions),
        ["Tls"] = typeof(AunceTlsOptions),
    };

    /// <summary>Checks every key and value under <c>Aunce</c>, binds and validates each section; throws <see cref="AunceConfigurationException"/> on the first problem.</summary>
    public static AunceSettings Read(IConfiguration config)
    {
        CheckKeys(config);
        var settings = new AunceSettings(
            Bind<AunceSiloOptions>(config, AunceSiloOptions.SectionName),
            Bind<CheckpointStoreOptions>(config, CheckpointStoreOptions.SectionName),
            Bind<TrainingExecutorOptions>(config, TrainingExecutorOptions.SectionName),
            Bind<AunceTelemetryOptions>(config, AunceTelemetryOptions.SectionName),
            Bind<AunceClusterOptions>(config, AunceClusterOptions.SectionName),
            Bind<Api.AunceApiOptions>(config, Api.AunceApiOptions.SectionName),
            Bind<AunceTlsOptions>(config, AunceTlsOptions.SectionName));
        Validate(settings.Silo.Validate);
        Validate(settings.Checkpoints.Validate);
        Validate(settings.Training.Validate);
        Validate(settings.Telemetry.Validate);
        Validate(settings.Cluster.Validate);
        Validate(settings.Api.Validate);
        Validate(settings.Tls.Validate);
        if (settings.Silo.Clustering == "redis")
        {
            Validate(() => settings.Tls.RequireForCluster("a silo on Redis clustering"));
        }

        if (settings.Cluster.IsSet)
        {
            Validate(() => settings.Tls.RequireForCluster($"a client of cluster '{settings.Cluster.ClusterId}'"));
        }
        settings.Telemetry.OtlpEndpoint ??= config["OTEL_EXPORTER_OTLP_ENDPOINT"];
        return settings;
    }

    /// <summary>Registers the four options classes with the options pattern, validated on start with the same checks.</summary>
    public static IServiceCollection AddAunceOptions(this IServiceCollection services, IConfiguration config)
    {
        Register<AunceSiloOptions>(services, config, AunceSiloOptions.SectionName, o => o.Validate());
        Register<CheckpointStoreOptions>(services, config, CheckpointStoreOptions.SectionName, o => o.Validate());
        Register<TrainingExecutorOptions>(services, config, TrainingExecutorOptions.SectionName, o => o.Validate());
        Register<AunceTelemetryOptions>(services, config, AunceTelemetryOptions.SectionName, o => o.Validate());
        return services;
    }

    private static void Register<T>(IServiceCollection services, IConfiguration config, string section, Action<T> validate)
        where T : class
    {
        services.AddOptions<T>()
            .Bind(config.GetSection(section))
            .Validate(o =>
            {
                validate(o);
                return true;
            })
            .ValidateOnStart();
    }

    /// <summary>
    /// The one check of the keys under <c>Aunce</c> (<see cref="Read"/> runs it before anything binds, and every host reads its
    /// settings through <see cref="Read"/>): unknown sections and settings with the nearest known name, a value set on a
    /// section, and each value's type, every message naming the key. The binder's <c>ErrorOnUnknownConfiguration</c> is not
    /// used beside it: it knows neither sections nor suggestions, and would only repeat this check.
    /// </summary>
    private static void CheckKeys(IConfiguration config)
    {
        foreach (var (key, value) in config.GetSection(Root).AsEnumerable().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var parts = key.Split(':');
            if (parts.Length < 2)
            {
                continue;
            }

            if (!Sections.TryGetValue(parts[1], out var type))
            {
                throw new AunceConfigurationException(
                    $"{Root}:{parts[1]}: unknown configuration section{Suggest(parts[1], Sections.Keys, $"{Root}:")} (known: {string.Join(", ", Sections.Keys.Select(k => $"{Root}:{k}"))})");
            }

            var properties = Settable(type);
            if (parts.Length == 2)
            {
                if (value is not null)
                {
                    throw new AunceConfigurationException($"{Root}:{parts[1]} is a section, not a setting; set one of its settings, e.g. {Root}:{parts[1]}:{properties[0].Name}");
                }

                continue;
            }

            var property = properties.FirstOrDefault(p => string.Equals(p.Name, parts[2], StringComparison.OrdinalIgnoreCase));
            var section = $"{Root}:{CanonicalSection(parts[1])}";
            if (property is null)
            {
                throw new AunceConfigurationException(
                    $"{section}:{parts[2]}: unknown setting{Suggest(parts[2], properties.Select(p => p.Name), $"{section}:")} (known: {string.Join(", ", properties.Select(p => p.Name))})");
            }

            if (parts.Length > 3)
            {
                throw new AunceConfigurationException($"{key}: {section}:{property.Name} is a single value, not a section");
            }

            if (value is not null)
            {
                CheckValue($"{section}:{property.Name}", value, property.PropertyType);
            }
        }
    }

    private static string CanonicalSection(string name) => Sections.Keys.First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));

    private static List<PropertyInfo> Settable(Type type) =>
        [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.SetMethod!.IsPublic)];

    private static void CheckValue(string key, string value, Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string))
        {
            return;
        }

        var what = target == typeof(int) || target == typeof(long) ? "a whole number"
            : target == typeof(bool) ? "true or false"
            : target == typeof(double) ? "a number"
            : target.Name;
        if (value.Length == 0 && type != target)
        {
            return;   // an empty value clears an optional setting
        }

        try
        {
            _ = TypeDescriptor.GetConverter(target).ConvertFromInvariantString(value);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException || e.InnerException is FormatException or OverflowException)
        {
            throw new AunceConfigurationException($"{key} '{value}' is not {what}");
        }
    }

    private static T Bind<T>(IConfiguration config, string section)
        where T : new()
    {
        try
        {
            return config.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException e)
        {
            throw new AunceConfigurationException(e.Message);
        }
    }

    private static void Validate(Action validate)
    {
        try
        {
            validate();
        }
        catch (InvalidOperationException e)
        {
            throw new AunceConfigurationException(e.Message);
        }
    }

    /// <summary>" (did you mean PREFIX+NAME?)" for the closest of <paramref name="candidates"/>, or nothing when none is close.</summary>
    internal static string Suggest(string given, IEnumerable<string> candidates, string prefix)
    {
        var best = candidates.Select(c => (Name: c, Distance: Distance(given.ToLowerInvariant(), c.ToLowerInvariant())))
            .OrderBy(c => c.Distance).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(2, given.Length / 3) ? $" (did you mean {prefix}{best.Name}?)" : "";
    }

    /// <summary>Levenshtein distance.</summary>
    internal static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
