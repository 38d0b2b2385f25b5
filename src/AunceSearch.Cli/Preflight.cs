using AunceSearch.Checkpoints;
using AunceSearch.Coordination;
using AunceSearch.Contracts;
using AunceSearch.Hosting;
using AunceSearch.Model;
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

    public static async Task CheckAsync(SweepDefinition spec, AunceSettings settings, string? journalDirectory, CancellationToken cancellationToken, TextWriter? log = null)
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
        CheckCheckpointSpace(spec, settings.Checkpoints, log);
    }

    /// <summary>
    /// Estimates the checkpoint bytes the sweep can hold at its peak under its retention policy (<see cref="CheckpointBudget"/>,
    /// with the encoder's real size) and compares them with the free space of a local store: a <see cref="PreflightException"/>
    /// when they cannot fit, a warning on <paramref name="log"/> when they take more than half. Blob stores cannot say how
    /// much room they have: only the estimate is reported. Returns the estimate's one-line description.
    /// </summary>
    public static string CheckCheckpointSpace(SweepDefinition spec, CheckpointStoreOptions store, TextWriter? log)
    {
                var aus = AuCount(spec);
        ModelFootprint footprint;
        try
        {
            footprint = ModelFootprint.Of(spec.Model with { InputSize = spec.Dataset.EffectiveCrop }, aus);
        }
        catch (ArgumentException e)
        {
            throw new PreflightException($"model: {e.Message}");   // e.g. a Swin whose windows do not divide the crop
        }

        var estimate = CheckpointBudget.Estimate(spec, footprint.CheckpointBytes);
        var (free, where) = store.Store == "local" ? (FreeBytes(store.Path), $"the checkpoint store {Path.GetFullPath(store.Path)}") : ((long?)null, "");
        var (problem, warning) = CheckpointBudget.Judge(estimate, free, where);
        if (problem is not null)
        {
            throw new PreflightException(problem);
        }

        if (warning is not null)
        {
            log?.WriteLine($"warning: {warning}");
        }

        return estimate.Describe() + (free is { } f ? $"; {where} has {CheckpointEstimate.Bytes(f)} free" : "");
    }

    /// <summary>The AUs the spec's models predict: those it names, or its first fold's (a synthetic dataset not generated yet: the generator's).</summary>
    private static int AuCount(SweepDefinition spec) =>
        spec.Dataset.AuNames is { } named ? named.Length
        : spec.Dataset.Synthetic is { } syn && !SyntheticAuFaces.Exists(spec.Dataset.Root, spec.Dataset.ListName, syn.Folds) ? SyntheticAuFaces.AuNames.Length
        : AuFoldData.ReadSplits(new DatasetSource(spec.Dataset, spec.Folds[0])).Train.AuNames.Count;

    /// <summary>The free bytes of the file system a folder is (or would be created) on: its nearest existing ancestor's.</summary>
    public static long? FreeBytes(string path)
    {
        var dir = new DirectoryInfo(Path.GetFullPath(path));
        while (dir is not null && !dir.Exists)
        {
            dir = dir.Parent;
        }

        try
        {
            return dir is null ? null : new DriveInfo(dir.FullName).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    public static void CheckDevice(SweepDefinition spec)
    {
        if (spec.Training.Device == TrainingDevice.Cuda && !TorchRuntime.CudaAvailable)
        {
            throw new PreflightException("training.device is cuda, but libtorch sees no CUDA device on this machine (use device: auto, or run on a GPU silo)");
        }
    }

    /// <summary>Loads model.pretrained into a freshly built backbone of the spec's encoder: the file's format, names and shapes.</summary>
    public static void CheckPretrained(SweepDefinition spec)
    {
        var model = spec.Model;
        if (model.Pretrained is not { } path)
        {
            return;
        }

                var aus = AuCount(spec);
        try
        {
            using var encoder = EncoderFactory.Create(model with { InputSize = spec.Dataset.EffectiveCrop }, aus);
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
