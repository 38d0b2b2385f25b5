using AunceSearch.Checkpoints;
using AunceSearch.Hosting;
using AunceSearch.Training;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// docker-compose.yml cannot run here (no Docker engine), so it is checked statically: the services exist, and every
/// Aunce__* variable names a real setting that binds and validates, so a typo cannot silently fall back to a default.
/// </summary>
public sealed class DeploymentFilesTests
{
    private static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AunceSearch.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new DirectoryNotFoundException("repository root (AunceSearch.sln) not found");
        }
    }

    private static YamlMappingNode Compose()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(RepoRoot, "docker-compose.yml"))));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static Dictionary<string, string> Environment(YamlMappingNode service)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(YamlMappingNode map)
        {
            foreach (var (k, v) in map.Children)
            {
                var key = ((YamlScalarNode)k).Value!;
                if (key == "<<")
                {
                    Add((YamlMappingNode)v);
                }
                else
                {
                    env[key] = ((YamlScalarNode)v).Value ?? "";
                }
            }
        }

        Add((YamlMappingNode)service.Children[new YamlScalarNode("environment")]);
        return env;
    }

    private static readonly Dictionary<string, Type> Sections = new()
    {
        ["Silo"] = typeof(AunceSiloOptions),
        ["Checkpoints"] = typeof(CheckpointStoreOptions),
        ["Training"] = typeof(TrainingExecutorOptions),
        ["Telemetry"] = typeof(AunceTelemetryOptions),
    };

    [Fact]
    public void Compose_describes_redis_azurite_a_coordinator_and_a_gpu_trainer()
    {
        var services = (YamlMappingNode)Compose().Children[new YamlScalarNode("services")];
        var names = services.Children.Keys.Select(k => ((YamlScalarNode)k).Value).ToList();
        Assert.Equal(["redis", "azurite", "silo-coordinator", "silo-gpu"], names);
        var gpu = (YamlMappingNode)services.Children[new YamlScalarNode("silo-gpu")];
        Assert.Equal("true", Environment(gpu)["Aunce__Silo__Trainer"]);
        Assert.Contains("driver: nvidia", Serialize(gpu));
        Assert.Equal("false", Environment((YamlMappingNode)services.Children[new YamlScalarNode("silo-coordinator")])["Aunce__Silo__Trainer"]);
    }

    [Theory]
    [InlineData("silo-coordinator")]
    [InlineData("silo-gpu")]
    public void Every_Aunce_variable_names_a_real_setting_and_validates(string serviceName)
    {
        var services = (YamlMappingNode)Compose().Children[new YamlScalarNode("services")];
        var env = Environment((YamlMappingNode)services.Children[new YamlScalarNode(serviceName)]);
        foreach (var key in env.Keys.Where(k => k.StartsWith("Aunce__", StringComparison.Ordinal)))
        {
            var parts = key.Split("__");
            Assert.True(parts.Length == 3, $"{key}: expected Aunce__Section__Setting");
            Assert.True(Sections.TryGetValue(parts[1], out var type), $"{key}: unknown section '{parts[1]}'");
            Assert.True(type!.GetProperty(parts[2]) is not null, $"{key}: {type.Name} has no setting '{parts[2]}'");
        }

        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(env.Where(kv => kv.Key.StartsWith("Aunce__", StringComparison.Ordinal))
                .Select(kv => new KeyValuePair<string, string?>(kv.Key.Replace("__", ":", StringComparison.Ordinal), kv.Value)))
            .Build();
        var silo = config.GetSection(AunceSiloOptions.SectionName).Get<AunceSiloOptions>()!;
        silo.Validate();
        Assert.Equal("redis", silo.Clustering);
        var checkpoints = config.GetSection(CheckpointStoreOptions.SectionName).Get<CheckpointStoreOptions>()!;
        checkpoints.Validate();
        Assert.Equal("azure-blob", checkpoints.Store);
    }

    private static string Serialize(YamlNode node)
    {
        var stream = new YamlStream(new YamlDocument(node));
        using var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }
}
