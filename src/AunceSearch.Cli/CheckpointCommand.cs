using System.Globalization;
using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using AunceSearch.Hosting;
using AunceSearch.Training.Export;
using Microsoft.Extensions.Configuration;

namespace AunceSearch.Cli;

/// <summary>What <c>aunce checkpoint download</c> was asked for.</summary>
/// <param name="CreateDirs">Create <paramref name="Output"/>'s directory when it is missing (otherwise that is an error).</param>
public sealed record DownloadOptions(string SweepId, int? Trial, int? Fold, ExportFormat Format, string Output, string JournalRoot, IReadOnlyDictionary<string, string?> Config,
    bool CreateDirs = false);

/// <summary>
/// <c>aunce checkpoint download SWEEP [--trial N | --best] [--fold K] [--format pt|safetensors|native] -o PATH</c>: the
/// sweep's record (<see cref="SweepRecords"/>: its grain's journal) names the trial's latest checkpoint per fold, the sweep's
/// saved settings (with --config on top) name the checkpoint store; the checkpoint is checked, exported and its SHA-256 printed.
/// </summary>
public static class CheckpointCommand
{
    public static async Task<int> DownloadAsync(DownloadOptions o, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        // Checked first: a wrong -o costs nothing (no store read, no directory made).
        var outputDirectory = Path.GetDirectoryName(Path.GetFullPath(o.Output))!;
        if (CheckpointExport.CheckOutput(o.Output) is { } problem && !(problem.MissingDirectory && o.CreateDirs))
        {
            throw new UsageException($"-o {o.Output}: {problem.Message}" + (problem.MissingDirectory ? " (create it, or pass --create-dirs)" : ""));
        }

        var (_, _, saved, _) = SweepJournal.Open(o.JournalRoot, o.SweepId);
        SweepStatus status;
        await using (var records = new SweepRecords(o.JournalRoot, [.. o.Config], stderr))
        {
            status = await records.ReadAsync(o.SweepId, cancellationToken);
        }

        CheckpointChoice choice;
        try
        {
            choice = CheckpointChoice.Pick(status, o.Trial, o.Fold);
        }
        catch (KeyNotFoundException e)
        {
            throw new UsageException(e.Message);
        }

        var (trialNumber, fold, key) = (choice.Trial.Trial, choice.Fold, choice.Key);

        var store = Store(saved, o.Config);
        var data = await store.LoadAsync(key, cancellationToken)
            ?? throw new PreflightException($"checkpoint {key} of sweep '{o.SweepId}' is not in the checkpoint store (looked at {store.Locate(key)}) " +
                                            "(moved, deleted, or the sweep ran on a cluster whose store needs --config Aunce:Checkpoints:…)");
        if (choice.Mismatch(data) is { } mismatch)
        {
            throw new PreflightException(mismatch);   // not the checkpoint the sweep wrote: nothing exported
        }

        var origin = choice.Origin(o.SweepId, status.Metric);
        ExportResult result;
        try
        {
            if (o.CreateDirs)
            {
                Directory.CreateDirectory(outputDirectory);   // asked for; only once the checkpoint is known good
            }

            result = CheckpointExport.Export(data, $"checkpoint {key}", o.Format, o.Output, origin);
        }
        catch (InvalidDataException e)
        {
            throw new PreflightException(e.Message);   // damaged or weightless: named, and nothing written
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PreflightException($"-o {o.Output}: cannot write the export ({e.Message})");
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sweep {o.SweepId} trial {trialNumber}{(o.Trial is null ? " (best)" : "")} fold {fold.Fold}{(o.Fold is null ? " (best on its test split)" : "")} " +
            $"epoch {fold.Epoch}: {status.Metric} {choice.Value(status.Metric):0.0000}"));
        stdout.WriteLine($"{o.Format.ToString().ToLowerInvariant()}: {result.Path} ({result.Bytes} bytes{(result.Tensors > 0 ? $", {result.Tensors} tensors" : "")})");
        stdout.WriteLine($"sha256: {result.Sha256}");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The store the sweep's silo wrote to: its saved settings, then the environment (Aunce__Checkpoints__…: where a
    /// secret such as a connection string comes from, since journals never keep one), then this command's --config.
    /// </summary>
    private static ICheckpointStore Store(IReadOnlyDictionary<string, string?> saved, IReadOnlyDictionary<string, string?> overrides)
    {
        static Dictionary<string, string?> Checkpoints(IReadOnlyDictionary<string, string?> settings) => settings
            .Where(p => p.Key.StartsWith("Aunce:Checkpoints:", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);

        var config = new ConfigurationBuilder().AddInMemoryCollection(Checkpoints(saved)).AddEnvironmentVariables().AddInMemoryCollection(Checkpoints(overrides)).Build();
        return CheckpointStoreFactory.Create(AunceConfiguration.Read(config).Checkpoints);
    }
}
