using AunceSearch.Checkpoints;
using AunceSearch.Coordination;
using AunceSearch.Grains;
using AunceSearch.Hosting;
using AunceSearch.Spec;
using AunceSearch.Training.Data;
using AunceSearch.Training.Models;
using AunceSearch.Training.Runtime;

namespace AunceSearch.Cli;

/// <summary>The environment cannot run the sweep as configured (a device, a store, a folder, weights); found before any training.</summary>
public sealed class PreflightException(string message) : Exception(message);

/// <summary>
/// Checks, once and before any silo starts or any fold trains, what would otherwise fail every trial one by one: the
/// requested device exists, the checkpoint store takes a write, the journal folder is writable, a trainer silo will exist,
/// and the pretrained weights load into the spec's backbone.
/// </summary>
public static class Preflight
{
    public static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(5);

    public static async Task CheckAsync(SweepSpec spec, AunceSettings settings, string? journalDirectory, CancellationToken cancellationToken)
    {
        CheckDevice(spec);
        if (settings.Silo.Clustering == "localhost" && !settings.Silo.Trainer)
        {
            throw new PreflightException($"{AunceSiloOptions.SectionName}:Trainer is false, but this command's embedded silo is the only silo " +
                                         "(localhost clustering): no fold could ever train; remove the setting, or join a cluster of trainer silos (aunce silo)");
        }

        if (await CheckpointStoreProbe.CheckAsync(settings.Checkpoints, StoreTimeout, cancellationToken) is { } store)
        {
            throw new PreflightException($"checkpoint store: {store}");
        }

        if (journalDirectory is not null && CheckpointStoreProbe.WritableDirectory("--journal", journalDirectory) is { } journal)
        {
            throw new PreflightException($"sweep journal: {journal}");
        }

        CheckPretrained(spec);
    }

    public static void CheckDevice(SweepSpec spec)
    {
        if (spec.Training.Device == "cuda" && !TorchRuntime.CudaAvailable)
        {
            throw new PreflightException("training.device is cuda, but libtorch sees no CUDA device on this machine (use device: auto, or run on a GPU silo)");
        }
    }

    /// <summary>Loads model.pretrained into a freshly built backbone of the spec's encoder: the file's format, names and shapes.</summary>
    public static void CheckPretrained(SweepSpec spec)
    {
        var model = spec.Model.ToRef().ToOptions();
        if (model.Pretrained is not { } path)
        {
            return;
        }

        var source = spec.Dataset.ToRef().ToSource(spec.Dataset.Folds[0]);
        var aus = AuFoldData.ReadSplits(source).Train.AuNames.Count;
        try
        {
            using var encoder = EncoderFactory.Create(model with { InputSize = source.EffectiveCrop }, aus);
            if (encoder is AuEncoder au)
            {
                SafeTensors.LoadBackbone(au.Backbone, path);
            }
        }
        catch (Exception e) when (e is SafeTensorsException or IOException or UnauthorizedAccessException)
        {
            throw new PreflightException($"model.pretrained: {e.Message}");
        }
    }
}
