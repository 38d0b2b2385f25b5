using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using AunceSearch.Hosting;
using AunceSearch.Model;
using AunceSearch.Training;
using AunceSearch.Training.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.TestingHost;

namespace AunceSearch.Grains.Tests;

/// <summary>In-process clusters composed as the embedded silo is (file grain storage, local checkpoints), with synthetic trainers.</summary>
internal static class FakeTrainerClusters
{
    /// <summary>A new temporary folder holding a tiny synthetic dataset under "data" (specs name it as <c>root: data</c>).</summary>
    public static string DataRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        SyntheticAuFaces.Generate(Path.Combine(root, "data"), new SyntheticOptions { Subjects = 3, ImagesPerSubject = 1, ImageSize = 32, Folds = 3 });
        return root;
    }

    /// <summary>
    /// <paramref name="silos"/> silos keeping grain state under DIR/state and checkpoints under DIR/ckpt; each silo's folds train
    /// with <paramref name="runner"/>(its name). With <paramref name="coordinates"/>, a silo for which it holds only
    /// coordinates and the others only train; without it every silo does both. <paramref name="replace"/> registers services
    /// that replace the silo's own (a gated grain storage, a failing checkpoint store).
    /// </summary>
    public static InProcessTestCluster Build(string dir, Func<string, IFoldTrainingRunner> runner, int silos = 1, int slots = 4, Func<string, bool>? coordinates = null,
        Action<IServiceCollection>? replace = null)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((options, silo) =>
        {
            var coordinator = coordinates?.Invoke(options.SiloName) ?? true;
            silo.AddAunceSearch(new AunceSiloOptions
            {
                GrainStorage = "file", StatePath = Path.Combine(dir, "state"), Coordinator = coordinator, Trainer = coordinates is null || !coordinator,
            });
            silo.Services.AddAunceTraining(new CheckpointStoreOptions { Path = Path.Combine(dir, "ckpt") }, new TrainingExecutorOptions { Slots = slots, TorchThreads = 1 });
            silo.Services.AddSingleton(runner(options.SiloName));
            replace?.Invoke(silo.Services);
        });
        return builder.Build();
    }

    /// <summary>Waits on the sweep's event stream until it ends; fails after <paramref name="limit"/> naming each trial's state and epoch.</summary>
    public static Task<SweepStatus> UntilEndedAsync(ISweepGrain sweep, TimeSpan limit) => AunceSearch.Tests.SweepWatch.UntilEndAsync(sweep, limit);
}
