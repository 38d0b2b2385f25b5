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

    /// <summary>
    /// Creates the journal of sweep <paramref name="sweepId"/>; an id whose journal exists is refused (its journal and
    /// checkpoints belong to another sweep). The claim is atomic: spec.yaml is created with CreateNew.
    /// </summary>
    public static SweepJournal Create(string root, string sweepId, string specYaml) =>
        TryCreate(root, sweepId, specYaml) ?? throw new UsageException(
            $"sweep id '{sweepId}' is taken: {Path.Combine(root, sweepId)} holds another sweep's journal; choose another --id");

    /// <summary>A journal under a fresh id <c>NAME-yyyyMMdd-HHmmss-xxxxxx</c> (random suffix: two sweeps of one name started in the same second differ).</summary>
    public static (string Id, SweepJournal Journal) CreateUnique(string root, string name, DateTime utcNow, string specYaml)
    {
        for (var attempt = 0; ; attempt++)
        {
            var id = $"{name}-{utcNow:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";
            if (TryCreate(root, id, specYaml) is { } journal)
            {
                return (id, journal);
            }

            if (attempt > 100)
            {
                throw new IOException($"{root}: cannot claim a new sweep id");
            }
        }
    }

    /// <summary>Letters, digits, '-', '_' and '.', 1–100 characters, not starting with '.' (a directory name and a checkpoint-key segment).</summary>
    public static string? IdProblem(string id) =>
        id.Length is >= 1 and <= 100 && id[0] != '.' && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? null
            : $"sweep id '{id}' must be 1-100 letters, digits, '-', '_' or '.', not starting with '.'";

    private static SweepJournal? TryCreate(string root, string sweepId, string specYaml)
    {
        var dir = Path.Combine(root, sweepId);
        System.IO.Directory.CreateDirectory(dir);
        try
        {
            using (var spec = new FileStream(Path.Combine(dir, "spec.yaml"), FileMode.CreateNew, FileAccess.Write))
            using (var writer = new StreamWriter(spec))
            {
                writer.Write(specYaml);
            }
        }
        catch (IOException) when (File.Exists(Path.Combine(dir, "spec.yaml")))
        {
            return null;
        }

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
    public static int Explain(string sweep, int? trial, TextWriter stdout, TextWriter stderr)
    {
        var dir = System.IO.Directory.Exists(sweep) ? sweep : Path.Combine(System.IO.Directory.GetCurrentDirectory(), ".aunce", "sweeps", sweep);
        if (!System.IO.Directory.Exists(dir))
        {
            throw new UsageException($"sweep '{sweep}': no journal at {dir}");
        }

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
