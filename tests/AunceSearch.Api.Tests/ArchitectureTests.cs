using System.Reflection;
using System.Text.RegularExpressions;
using AunceSearch.Contracts;
using AunceSearch.Coordination;
using AunceSearch.Grains;
using AunceSearch.Search;
using AunceSearch.Tests;
using AunceSearch.Training;

namespace AunceSearch.Api.Tests;

/// <summary>
/// The layering rules, checked on the built assemblies and the sources: pure cores know nothing of Orleans, TorchSharp or
/// Azure; the HTTP layer holds no training code; grains get their dependencies by constructor, not from a service
/// provider; the search core declares one public type per file. Each check also finds something that is there, so it can fail.
/// </summary>
public sealed partial class ArchitectureTests
{
    private static string[] References(Type t) => [.. t.Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "")];

    private static bool Infrastructure(string name) =>
        name.StartsWith("Orleans", StringComparison.Ordinal) || name.StartsWith("TorchSharp", StringComparison.Ordinal) ||
        name.StartsWith("Azure", StringComparison.Ordinal) || name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal);

    [Fact]
    public void The_vocabulary_references_only_the_base_library_and_the_search_core_only_it_besides()
    {
        var vocabulary = References(typeof(AunceSearch.Model.TrainingVocabulary));
        Assert.All(vocabulary, n => Assert.True(n.StartsWith("System", StringComparison.Ordinal), $"AunceSearch.Model references {n}"));
        var search = References(typeof(ISampler));
        Assert.All(search, n => Assert.True(n.StartsWith("System", StringComparison.Ordinal) || n == "AunceSearch.Model", $"AunceSearch.Search references {n}"));
        Assert.Contains("System.IO.Hashing", search);
        Assert.Contains("AunceSearch.Model", References(typeof(TrainingExecutor)));   // the trainer reads the same tables
    }

    [Fact]
    public void The_coordinator_knows_no_runtime_and_training_knows_no_Orleans()
    {
        // The coordinator reads the wire records (their serializer attributes come with them), and nothing of the runtime.
        var coordinator = References(typeof(SweepCoordinator));
        Assert.DoesNotContain(coordinator, n => Infrastructure(n) && !n.StartsWith("Orleans.Serialization", StringComparison.Ordinal) && n != "Orleans.Core.Abstractions");
        Assert.Contains("Orleans.Serialization.Abstractions", coordinator);
        var training = References(typeof(TrainingExecutor));
        Assert.DoesNotContain(training, n => n.StartsWith("Orleans", StringComparison.Ordinal) || n is "AunceSearch.Contracts" or "AunceSearch.Grains");
        Assert.Contains("TorchSharp", training);
    }

    [Fact]
    public void The_http_layer_holds_no_training_code()
    {
        var api = References(typeof(ICheckpointExporter));
        Assert.DoesNotContain(api, n => n is "AunceSearch.Training" || n.StartsWith("TorchSharp", StringComparison.Ordinal));
        Assert.Contains("AunceSearch.Contracts", api);
    }

    [Fact]
    public void Grains_take_their_dependencies_by_constructor_not_from_a_service_provider()
    {
        var grains = typeof(SweepGrain).Assembly.GetTypes().Where(t => typeof(Grain).IsAssignableFrom(t) && !t.IsAbstract).ToList();
        Assert.Contains(typeof(FoldGrain), grains);
        Assert.All(grains, g => Assert.DoesNotContain(g.GetConstructors().SelectMany(c => c.GetParameters()), p => p.ParameterType == typeof(IServiceProvider)));
    }

    [Fact]
    public void Every_grain_interface_has_an_alias()
    {
        var interfaces = typeof(ISweepGrain).Assembly.GetTypes().Where(t => t.IsInterface && typeof(IGrain).IsAssignableFrom(t)).ToList();
        Assert.Contains(typeof(IFoldGrain), interfaces);
        Assert.All(interfaces, i => Assert.NotNull(i.GetCustomAttribute<AliasAttribute>()));
    }

    [Fact]
    public void The_search_core_declares_one_public_type_per_file()
    {
        var files = Directory.GetFiles(Path.Combine(TestFixtures.RepositoryRoot, "src", "AunceSearch.Search"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).ToList();
        Assert.True(files.Count > 20, $"{files.Count} source files found");
        Assert.All(files, f =>
        {
            var types = PublicType().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value).ToList();
            Assert.True(types.Count <= 1, $"{Path.GetFileName(f)} declares {string.Join(", ", types)}");
        });
    }

    [Fact]
    public void Each_setting_has_one_shape_from_the_spec_to_the_trainer()
    {
        // The settings records live in the vocabulary, and the spec loader, the wire and the trainer all use them: no second
        // record of the same settings (the old SweepSpec / DatasetRef / DatasetSource triples) and no mapping between shapes.
        var vocabulary = typeof(AunceSearch.Model.DatasetOptions).Assembly;
        string[] records = ["DatasetOptions", "ModelOptions", "AugmentOptions", "SyntheticOptions", "TrainingDevice", "DatasetSplit", "DataCacheMode", "AugmentMode"];
        Assert.All(records, r => Assert.NotNull(vocabulary.GetType($"AunceSearch.Model.{r}")));
        var declared = Directory.GetFiles(Path.Combine(TestFixtures.RepositoryRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => PublicType().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetRelativePath(TestFixtures.RepositoryRoot, f), Type: m.Groups[1].Value)))
            .ToList();
        Assert.Contains(declared, d => d.Type == "DatasetOptions");
        Assert.All(declared, d => Assert.False(
            (records.Contains(d.Type) && !d.File.Contains("AunceSearch.Model", StringComparison.Ordinal)) ||
            d.Type is "SweepSpec" or "DatasetSpec" or "ModelSpec" or "TrainingSpec" or "AugmentSpec" or "SearchSpec" or "SchedulerSpec" or "DatasetRef" or "ModelRef" or "AugmentRef" or "WireMapping" or "SpecToDefinition",
            $"{d.File} declares {d.Type}: a second shape of settings the vocabulary holds"));

        // The trainer takes them as they are; the wire carries them as they are.
        Assert.Equal(typeof(AunceSearch.Model.ModelOptions), typeof(FoldTrainingRequest).GetProperty(nameof(FoldTrainingRequest.Model))!.PropertyType);
        Assert.Equal(typeof(AunceSearch.Model.AugmentOptions), typeof(FoldTrainingRequest).GetProperty(nameof(FoldTrainingRequest.Augment))!.PropertyType);
        Assert.True(typeof(AunceSearch.Model.DatasetOptions).IsAssignableFrom(typeof(FoldTrainingRequest).GetProperty(nameof(FoldTrainingRequest.Dataset))!.PropertyType));
        Assert.Equal(typeof(AunceSearch.Model.DatasetOptions), typeof(TrialAssignment).GetProperty(nameof(TrialAssignment.Dataset))!.PropertyType);
        Assert.Equal(typeof(AunceSearch.Model.ModelOptions), typeof(SweepDefinition).GetProperty(nameof(SweepDefinition.Model))!.PropertyType);
    }

    [GeneratedRegex(@"^public\s+(?:(?:sealed|static|abstract|readonly|partial|record)\s+)*(?:class|record|interface|enum|struct)\s+(?:struct\s+)?(\w+)", RegexOptions.Multiline)]
    private static partial Regex PublicType();
}
