using System.Globalization;
using System.Text.Json;
using AunceSearch.Api;
using AunceSearch.Contracts;

namespace AunceSearch.Cli;

/// <summary>
/// What a client keeps of a sweep it started, on disk: <c>spec.yaml</c> and <c>settings.json</c> (what <c>sweep resume</c>
/// needs to reach the sweep again) and <c>events.jsonl</c> (an export of every progress event this client followed,
/// appended as it happens, for tailing and tools). None of it is the sweep's state: that is the sweep grain's journal, and
/// every view (<c>sweep status</c>, <c>list</c>, <c>explain</c>, <c>checkpoint download</c>) reads it (<see cref="SweepRecords"/>).
/// </summary>
public sealed class SweepJournal
{
    /// <summary>One event per line (events.jsonl): no indentation, named non-finite numbers. One instance: options are costly to build and cache per instance.</summary>
    private static readonly JsonSerializerOptions EventLine = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

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
    public static string? IdProblem(string id) => GrainKeys.SweepIdProblem(id);

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

    /// <summary>
    /// The Aunce:* settings the sweep ran with (settings.json), for <c>sweep resume</c>, without its secrets
    /// (<see cref="Hosting.AunceConfiguration.IsSecret"/>): returns the names of those left out, which a resume must be given again.
    /// </summary>
    public IReadOnlyList<string> WriteSettings(IReadOnlyDictionary<string, string?> settings)
    {
        var kept = settings.Where(p => !Hosting.AunceConfiguration.IsSecret(p.Key, p.Value)).ToDictionary(p => p.Key, p => p.Value);
        Checkpoints.DurableFile.Replace(Path.Combine(Directory, "settings.json"), JsonSerializer.SerializeToUtf8Bytes(kept, Json));
        return [.. settings.Keys.Where(k => !kept.ContainsKey(k)).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Opens the journal of an existing sweep to continue it: its spec, its settings and the last event it recorded. A
    /// damaged journal is an error naming the file, the line and the last good event; nothing is changed.
    /// </summary>
    public static (SweepJournal Journal, string Yaml, IReadOnlyDictionary<string, string?> Settings, long LastSequence) Open(string root, string sweepId)
    {
        if (IdProblem(sweepId) is { } problem)
        {
            throw new UsageException(problem);
        }

        var dir = Path.Combine(root, sweepId);
        var specFile = Path.Combine(dir, "spec.yaml");
        if (!File.Exists(specFile))
        {
            throw new UsageException($"no sweep '{sweepId}': no journal at {dir} (aunce sweep list shows the sweeps under {root})");
        }

        var settingsFile = Path.Combine(dir, "settings.json");
        Dictionary<string, string?> settings;
        try
        {
            settings = File.Exists(settingsFile)
                ? JsonSerializer.Deserialize<Dictionary<string, string?>>(File.ReadAllText(settingsFile)) ?? []
                : throw new Training.Data.DataFormatException($"{settingsFile}: missing (a sweep run before settings were journaled cannot be resumed)");
        }
        catch (JsonException e)
        {
            throw new Training.Data.DataFormatException($"{settingsFile}: damaged ({e.Message})");
        }

        long last = 0;
        var eventsFile = Path.Combine(dir, "events.jsonl");
        var bytes = File.Exists(eventsFile) ? File.ReadAllBytes(eventsFile) : [];
        var journal = new SweepJournal(dir);
        var (lineNo, start, goodEnd) = (0, 0, 0);
        while (start < bytes.Length)
        {
            var newline = Array.IndexOf(bytes, (byte)'\n', start);
            var end = newline < 0 ? bytes.Length : newline;
            lineNo++;
            SweepEvent? e;
            try
            {
                e = JsonSerializer.Deserialize<SweepEvent>(System.Text.Encoding.UTF8.GetString(bytes, start, end - start).TrimEnd('\r'), EventLine);
            }
            catch (Exception x) when (x is JsonException or ArgumentException)
            {
                e = null;
            }

            if (e is null || e.Sequence <= last)
            {
                if (end >= bytes.Length - 1)
                {
                    // The last line, cut short (power lost, a full disk mid-append): dropped, by whoever appends next.
                    journal._truncateTo = goodEnd;
                    journal.Warning = $"{eventsFile}:{lineNo}: the last line is cut short (a write the process did not finish); it is dropped, " +
                                      $"the journal resumes after event #{last}";
                    break;
                }

                throw new Training.Data.DataFormatException(
                    $"{eventsFile}:{lineNo}: not a sweep event in sequence (the last good event is #{last}, line {lineNo - 1}); nothing was changed — " +
                    "move the file aside to resume without it");
            }

            last = e.Sequence;
            goodEnd = newline < 0 ? bytes.Length : newline + 1;
            start = end + 1;
        }

        if (journal._truncateTo is null && bytes.Length > 0 && bytes[^1] != (byte)'\n')
        {
            journal._truncateTo = bytes.Length;   // whole but unterminated: the next append starts on a new line
        }

        return (journal, File.ReadAllText(specFile), settings, last);
    }

    /// <summary>Where events.jsonl's good part ends, when what follows must go before the next append (a torn last line).</summary>
    private long? _truncateTo;

    /// <summary>What opening the journal found and will repair (a torn last line), for the caller to say; null when nothing.</summary>
    public string? Warning { get; private set; }

    /// <summary>
    /// Marks this process as the sweep's follower (owner.pid) until disposed. A live other follower is refused (two
    /// processes appending to one journal would interleave it); a dead one's claim (kill -9) is taken over.
    /// </summary>
    public IDisposable Claim(string sweepId)
    {
        var file = Path.Combine(Directory, "owner.pid");
        var me = Environment.ProcessId;
        if (Owner() is { } other && other != me)
        {
            throw new UsageException($"sweep '{sweepId}' is followed by process {other} (its aunce sweep run or resume); stop that one, or run aunce sweep cancel {sweepId}");
        }

        File.WriteAllText(file, me.ToString(CultureInfo.InvariantCulture));
        return new Release(() =>
        {
            if (File.Exists(file) && File.ReadAllText(file).Trim() == me.ToString(CultureInfo.InvariantCulture))
            {
                File.Delete(file);
            }
        });
    }

    /// <summary>The live process that follows the sweep (owner.pid), or null.</summary>
    public int? Owner()
    {
        var file = Path.Combine(Directory, "owner.pid");
        if (!File.Exists(file) || !int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }

        return Alive(pid) ? pid : null;
    }

    /// <summary>
    /// Whether <paramref name="pid"/> is a live .NET process (a reused pid of another program is no owner). On Linux from
    /// /proc (a zombie has an empty command line); elsewhere through the process API.
    /// </summary>
    private static bool Alive(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
                return cmdline.Contains("aunce", StringComparison.Ordinal) || cmdline.Contains("testhost", StringComparison.Ordinal) ||
                       cmdline.Contains("dotnet", StringComparison.Ordinal);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return e is UnauthorizedAccessException;   // gone, or someone else's process we may not read (treated as live)
            }
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private string CancelFile => Path.Combine(Directory, "cancel.request");

    /// <summary>Asks the process that follows the sweep to cancel it (<c>aunce sweep cancel</c> of an embedded sweep).</summary>
    public void RequestCancel() => File.WriteAllText(CancelFile, DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));

    /// <summary>True once if a cancel was requested (the request is consumed).</summary>
    public bool TakeCancelRequest()
    {
        if (!File.Exists(CancelFile))
        {
            return false;
        }

        File.Delete(CancelFile);
        return true;
    }

    private sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    /// <summary>
    /// Appends events, one line each, flushed to disk before it returns (a power loss keeps every event the journal said it
    /// holds). The first append after <see cref="Open"/> found a torn last line cuts it off first.
    /// </summary>
    public void Append(IEnumerable<SweepEvent> events)
    {
        var text = string.Concat(events.Select(e => JsonSerializer.Serialize(e, EventLine) + "\n"));
        if (text.Length == 0)
        {
            return;
        }

        using var file = new FileStream(Path.Combine(Directory, "events.jsonl"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        if (_truncateTo is { } at)
        {
            file.SetLength(at);
            if (at > 0)
            {
                file.Position = at - 1;
                if (file.ReadByte() != '\n')
                {
                    text = "\n" + text;
                }
            }

            _truncateTo = null;
        }

        var end = file.Seek(0, SeekOrigin.End);
        try
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(text));
            file.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            // A full disk mid-append: cut what was written back off (a truncation needs no space), so the journal ends
            // at its last whole line and the same events can be appended again later.
            try
            {
                file.SetLength(end);
            }
            catch (IOException)
            {
                _truncateTo = end;   // the next append cuts it
            }

            throw;
        }
    }

    /// <summary><c>aunce sweep status ID [--json]</c>: the sweep's state and leaderboard from its record (<see cref="SweepRecords"/>: what the grain and the API say).</summary>
    public static async Task<int> StatusAsync(SweepRecords records, string root, string sweepId, bool json, TextWriter stdout, CancellationToken cancellationToken)
    {
        var (journal, yaml, _, _) = Open(root, sweepId);
        var status = await records.ReadAsync(sweepId, cancellationToken);
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(status, Json));
            return ExitCodes.Ok;
        }

        var specFile = Path.Combine(journal.Directory, "spec.yaml");
        var spec = Spec.SweepSpecLoader.Parse(yaml, specFile, journal.Directory);
        stdout.WriteLine($"sweep {sweepId}: {status.State.ToString().ToLowerInvariant()}, {status.Trials.Length} of {status.TotalTrials} trials started" +
                         $"{(status.Error is null ? "" : "; " + status.Error)}");
        Leaderboard.Write(stdout, spec, status);
        return ExitCodes.Ok;
    }

    /// <summary><c>aunce sweep importance</c>: which searched parameters mattered (PED-ANOVA), from the sweep's record.</summary>
    public static async Task<int> ImportanceAsync(SweepRecords records, string root, string sweepId, int? epoch, double quantile, bool global, bool json,
        TextWriter stdout, CancellationToken cancellationToken)
    {
        var (journal, yaml, _, _) = Open(root, sweepId);
        var definition = Spec.SweepSpecLoader.Parse(yaml, Path.Combine(journal.Directory, "spec.yaml"), journal.Directory);
        if (epoch is < 1 || epoch > definition.Training.Epochs)
        {
            throw new UsageException($"--epoch: {epoch} is not an epoch of sweep '{sweepId}' (1-{definition.Training.Epochs})");
        }

        if (quantile is <= 0 or > 1 || double.IsNaN(quantile))
        {
            throw new UsageException($"--quantile: {quantile.ToString(CultureInfo.InvariantCulture)} is not in (0, 1]");
        }

        var status = await records.ReadAsync(sweepId, cancellationToken);
        var report = Coordination.SweepImportance.Compute(definition, status.Trials, epoch, quantile, !global);
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(report, Json));
            return ExitCodes.Ok;
        }

        stdout.WriteLine($"sweep {sweepId}: parameter importance by {report.Method}");
        stdout.WriteLine($"over {report.Trials} {(epoch is { } e ? $"trials' values at epoch {e}" : "completed trials")}: the top {report.Quantile.ToString("0.##", CultureInfo.InvariantCulture)} " +
                         $"({report.TopTrials} trials) against {(report.Local ? "all of them" : "the whole search range")}");
        if (report.Note is { } note)
        {
            stdout.WriteLine($"no answer: {note}");
            return ExitCodes.Ok;
        }

        var width = Math.Max(9, report.Parameters.Max(p => p.Parameter.Length));
        foreach (var row in report.Parameters)
        {
            var bar = new string('#', (int)Math.Round(row.Share * 40));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{row.Parameter.PadRight(width)} {row.Share,6:0.000}  {bar}"));
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// <c>aunce sweep export</c>: the sweep's trials from its record as CSV, JSON lines or Parquet, written to a temporary
    /// file beside <paramref name="output"/> and renamed into place, so an interrupted export never leaves half a table.
    /// </summary>
    public static async Task<int> ExportAsync(SweepRecords records, string sweepId, string? format, string output, bool curves, TextWriter stdout,
        CancellationToken cancellationToken)
    {
        var kind = format is not null ? SweepExport.ParseFormat(format)
            : SweepExport.FormatOf(output) ?? throw new UsageException($"--output: '{output}' has no .csv, .jsonl or .parquet extension; name the format with --format");
        var full = Path.GetFullPath(output);
        if (Training.Export.CheckpointExport.CheckOutput(full) is { } problem)
        {
            throw new UsageException($"--output {output}: {problem.Message}");   // the checkpoint download's check: a missing directory, a file in its place, a directory
        }

        var status = await records.ReadAsync(sweepId, cancellationToken);
        var last = new Dictionary<int, DecisionRecord>();
        foreach (var d in status.Decisions)
        {
            last[d.Trial] = d;
        }

        var trials = status.Trials.OrderBy(t => t.Trial).Select(t => ExportTrial.From(t, last.GetValueOrDefault(t.Trial), status.Metric)).ToList();
        var order = status.Trials.Length == 0 ? [] : status.Trials[0].Hyperparameters.Keys.ToList();
        var temp = $"{full}.{Environment.ProcessId}.tmp";
        long rows;
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                rows = await SweepExport.WriteAsync(file, kind, curves, sweepId, trials, order, cancellationToken);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        stdout.WriteLine($"wrote {rows} row(s) ({(curves ? "trial x epoch" : "one per trial")}, {status.Trials.Length} trial(s)) to {full} as {SweepExport.Extension(kind)}");
        return ExitCodes.Ok;
    }

    /// <summary><c>aunce sweep list</c>: every sweep journaled under <paramref name="root"/>, newest first, each as its record says.</summary>
    public static async Task<int> ListAsync(SweepRecords records, string root, TextWriter stdout, CancellationToken cancellationToken)
    {
        var dirs = System.IO.Directory.Exists(root)
            ? new DirectoryInfo(root).GetDirectories().Where(d => File.Exists(Path.Combine(d.FullName, "spec.yaml"))).OrderByDescending(d => d.CreationTimeUtc).ToList()
            : [];
        if (dirs.Count == 0)
        {
            stdout.WriteLine($"no sweeps under {root}");
            return ExitCodes.Ok;
        }

        stdout.WriteLine($"{"id",-40} {"state",-10} {"trials",9} {"best",8}  started (UTC)");
        foreach (var d in dirs)
        {
            SweepStatus? status;
            string why;
            try
            {
                var (_, _, saved, _) = Open(root, d.Name);
                (status, why) = await records.TryReadAsync(d.Name, saved, cancellationToken);
            }
            catch (Exception e) when (e is UsageException or Training.Data.DataFormatException or InvalidDataException or PreflightException)
            {
                (status, why) = (null, e.Message.Split('\n')[0]);
            }

            var best = status?.Trials.FirstOrDefault(t => t.Trial == status.BestTrial)?.LastValue;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{d.Name,-40} {(status is null ? "unknown" : status.State.ToString().ToLowerInvariant()),-10} " +
                $"{(status is null ? "-" : $"{status.Trials.Length}/{status.TotalTrials}"),9} {(best is { } b ? b.ToString("0.0000", CultureInfo.InvariantCulture) : "-"),8}  " +
                $"{d.CreationTimeUtc:yyyy-MM-dd HH:mm:ss}{(status is null ? $"  ({why})" : "")}"));
        }

        return ExitCodes.Ok;
    }

    /// <summary><c>aunce sweep explain SWEEP [TRIAL]</c>: every decision about the trial (or all trials) in plain language, from the sweep's record.</summary>
    public static async Task<int> ExplainAsync(SweepRecords records, string sweep, int? trial, TextWriter stdout, CancellationToken cancellationToken)
    {
        var status = await records.ReadAsync(sweep, cancellationToken);
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
