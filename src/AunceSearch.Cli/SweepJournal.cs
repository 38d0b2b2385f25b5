using System.Globalization;
using System.Text.Json;
using AunceSearch.Contracts;

namespace AunceSearch.Cli;

/// <summary>
/// A sweep's journal on disk: <c>spec.yaml</c>, <c>events.jsonl</c> (every progress event, appended as it happens) and
/// <c>status.json</c> (the final status with every trial and every decision with its evidence).
/// </summary>
public sealed class SweepJournal
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private SweepJournal(string directory) => Directory = directory;

    public string Directory { get; }

    public static SweepJournal Create(string root, string sweepId, string specYaml)
    {
        var dir = Path.Combine(root, sweepId);
        System.IO.Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "spec.yaml"), specYaml);
        File.WriteAllText(Path.Combine(dir, "events.jsonl"), "");
        return new SweepJournal(dir);
    }

    public void Append(IEnumerable<SweepEvent> events)
    {
        var lines = events.Select(e => JsonSerializer.Serialize(e, new JsonSerializerOptions { NumberHandling = Json.NumberHandling })).ToList();
        if (lines.Count > 0)
        {
            File.AppendAllLines(Path.Combine(Directory, "events.jsonl"), lines);
        }
    }

    public void WriteStatus(SweepStatus status)
    {
        var tmp = Path.Combine(Directory, "status.json.tmp");
        File.WriteAllText(tmp, JsonSerializer.Serialize(status, Json));
        File.Move(tmp, Path.Combine(Directory, "status.json"), overwrite: true);
    }

    public static SweepStatus ReadStatus(string directory)
    {
        var file = Path.Combine(directory, "status.json");
        if (!File.Exists(file))
        {
            throw new UsageException($"{file}: no sweep status (is the sweep finished?)");
        }

        try
        {
            return JsonSerializer.Deserialize<SweepStatus>(File.ReadAllText(file), Json) ?? throw new UsageException($"{file}: empty");
        }
        catch (JsonException e)
        {
            throw new UsageException($"{file}: not a sweep status: {e.Message}");
        }
    }

    /// <summary><c>aunce sweep explain SWEEP [TRIAL]</c>: every decision about the trial (or all trials) in plain language.</summary>
    public static int Explain(string sweep, string[] rest, TextWriter stdout, TextWriter stderr)
    {
        var dir = System.IO.Directory.Exists(sweep) ? sweep : Path.Combine(System.IO.Directory.GetCurrentDirectory(), ".aunce", "sweeps", sweep);
        if (!System.IO.Directory.Exists(dir))
        {
            throw new UsageException($"sweep '{sweep}': no journal at {dir}");
        }

        int? trial = rest switch
        {
            [] => null,
            [var t] when int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
            _ => throw new UsageException("sweep explain takes a sweep and an optional trial number"),
        };
        var status = ReadStatus(dir);
        var trials = status.Trials.Where(t => trial is null || t.Trial == trial).ToList();
        if (trials.Count == 0)
        {
            throw new UsageException($"sweep {status.SweepId} has no trial {trial}");
        }

        foreach (var t in trials)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"trial {t.Trial}: {t.State.ToString().ToLowerInvariant()} after {t.LastEpoch} epoch(s), {status.Metric} {(t.LastValue is { } v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-")}" +
                $"{(t.Trial == status.BestTrial ? " (best)" : "")}; {string.Join(" ", t.Hyperparameters.Select(kv => $"{kv.Key}={kv.Value}"))}"));
            foreach (var d in status.Decisions.Where(d => d.Trial == t.Trial))
            {
                stdout.WriteLine($"  epoch {d.Epoch}: {d.Reason}");
            }

            if (t.Error is not null)
            {
                stdout.WriteLine($"  error: {t.Error}");
            }
        }

        return ExitCodes.Ok;
    }
}
