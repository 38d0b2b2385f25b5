using AunceSearch.Checkpoints;
using AunceSearch.Hosting;
using AunceSearch.Model;
using AunceSearch.Training;
using AunceSearch.Training.Data;
using Microsoft.Extensions.Hosting;
using Orleans.TestingHost;

namespace AunceSearch.Grains.Tests;

/// <summary>
/// Two in-process silos configured exactly as the product configures silos: Silo_0 is a trainer, Silo_1 is not
/// (so folds must land on Silo_0). Checkpoints go to a temporary local directory; data is a tiny synthetic set.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));

    public string CheckpointRoot => Path.Combine(Root, "checkpoints");

    public string DatasetRoot => Path.Combine(Root, "data");

    public async Task InitializeAsync()
    {
        SyntheticAuFaces.Generate(DatasetRoot, new SyntheticOptions { Subjects = 6, ImagesPerSubject = 12, ImageSize = 32, Folds = 3, OccurrenceRates = [0.3, 0.5, 0.2, 0.6] });
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((options, silo) =>
        {
            silo.AddAunceSearch(new AunceSiloOptions { Trainer = options.SiloName == "Silo_0" });
            silo.Services.AddAunceTraining(new CheckpointStoreOptions { Path = CheckpointRoot }, new TrainingExecutorOptions { Slots = 2, TorchThreads = 1 });
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
