using System.Diagnostics;
using System.Text.Json;
using AunceSearch.Contracts;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// Sweeps outlive their process: the embedded silo keeps grain state in files, so after <c>kill -9</c> of
/// <c>aunce sweep run</c>, <c>aunce sweep resume</c> finishes the sweep with the same decisions as an uninterrupted run.
/// </summary>
public sealed class DurableSweepTests
{
    private static readonly Lazy<string> Data = new(CliHarness.SyntheticDataset);

    private static string Spec(string dir)
    {
        var file = Path.Combine(dir, "spec.yaml");
        File.WriteAllText(file, $$"""
            name: dur
            seed: 3
            dataset: {root: {{Data.Value}}, folds: [1, 2], image_size: 32}
            model: {width: 4, feature_dim: 8}
            training: {epochs: 3, batch_size: 8, probe_steps: 5, device: cpu}
            search:
              trials: 4
              max_concurrent_trials: 1
              sampler: random
              scheduler: {kind: asha, grace_period: 1, reduction_factor: 2}
              space: {lr: {log_uniform: [1.0e-3, 1.0e-2]} }
            """);
        return file;
    }

    /// <summary>The leaderboard's trial rows (rank, trial, state, epochs, F1, accuracy, parameters): what must match.</summary>
    private static string[] Rows(string output) =>
        [.. output.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s+\d+\s+\d+ (completed|pruned|failed|running)"))];

    [Fact]
    public async Task Kill_minus_9_then_resume_ends_with_the_leaderboard_of_an_uninterrupted_run()
    {
        var work = CliHarness.TempDirectory();
        var spec = Spec(work);
        var journal = Path.Combine(work, "journal");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "aunce.dll"), "sweep", "run", spec, "--id", "killed", "--journal", journal },
        };
        using (var process = Process.Start(start)!)
        {
            var secondTrial = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.Contains("trial 1 fold", StringComparison.Ordinal) == true)
                {
                    secondTrial.TrySetResult();
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await secondTrial.Task.WaitAsync(TimeSpan.FromMinutes(3));
            }
            finally
            {
                process.Kill(entireProcessTree: true);   // SIGKILL: no clean-up of any kind
                await process.WaitForExitAsync();
            }
        }

        // While it is down: list and status read the journal.
        var (code, output, err) = await CliHarness.Run("sweep", "list", "--journal", journal);
        Assert.True(code == 0, err);
        Assert.Contains("killed ", output);
        (code, output, err) = await CliHarness.Run("sweep", "status", "killed", "--journal", journal, "--json");
        Assert.True(code == 0, err);
        using (var status = JsonDocument.Parse(output))
        {
            Assert.Equal("killed", status.RootElement.GetProperty("SweepId").GetString());
        }

        (code, output, err) = await CliHarness.Run("sweep", "resume", "killed", "--journal", journal);
        Assert.True(code == 0, err + output);
        Assert.Contains("sweep killed resumed (running)", output);
        var resumed = Rows(output);

        var clean = CliHarness.TempDirectory();
        (code, output, err) = await CliHarness.Run("sweep", "run", spec, "--id", "clean", "--journal", journal,
            "--config", $"Aunce:Checkpoints:Path={clean}/ckpt", "--config", $"Aunce:Silo:StatePath={clean}/state");
        Assert.True(code == 0, err);
        Assert.Equal(4, resumed.Length);
        Assert.Equal(Rows(output), resumed);

        // Completed fold epochs were not retrained: each is in the journal once (a fold epoch the sweep stored is not trained again).
        var events = File.ReadAllLines(Path.Combine(journal, "killed", "events.jsonl"));
        var foldEpochs = events.Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.GetProperty("Kind").GetString() == "fold-epoch")
            .Select(e => (e.GetProperty("Trial").GetInt32(), e.GetProperty("Fold").GetInt32(), e.GetProperty("Epoch").GetInt32())).ToList();
        Assert.Equal(foldEpochs.Count, foldEpochs.Distinct().Count());

        // No event was lost either: the journal holds events 1..n with no gap (what the killed process showed was stored).
        var sequences = events.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("Sequence").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (long)i), sequences);
    }

    /// <summary>
    /// A disk that fills up mid-sweep (a small tmpfs, filled with ballast once the second trial starts): the sweep pauses —
    /// checkpoint writes and the journal wait and retry, saying why — and nothing is left half written; once space is
    /// freed it goes on by itself and ends with the leaderboard of an uninterrupted run.
    /// </summary>
    [Fact]
    public async Task A_sweep_that_fills_its_disk_pauses_and_ends_with_the_same_leaderboard_once_space_is_freed()
    {
        var disk = Path.Combine(CliHarness.TempDirectory(), "disk");
        Directory.CreateDirectory(disk);
        using (var mount = Process.Start("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", disk])!)
        {
            await mount.WaitForExitAsync();
            Assert.True(mount.ExitCode == 0, "mounting a tmpfs failed: this test needs root (as ./test.sh runs in CI)");
        }

        try
        {
            var spec = Path.Combine(disk, "spec.yaml");
            File.WriteAllText(spec, File.ReadAllText(Spec(CliHarness.TempDirectory())).Replace("epochs: 3", "epochs: 6", StringComparison.Ordinal)
                .Replace("trials: 4", "trials: 6", StringComparison.Ordinal));
            var journal = Path.Combine(disk, "journal");
            var ballast = Path.Combine(disk, "ballast");
            string[] rows;
            using (var run = AunceProcess.Start(disk, ["sweep", "run", spec, "--id", "full", "--journal", journal, "--plain"]))
            {
                await run.WaitForLineAsync(l => l.Contains("trial 1 started", StringComparison.Ordinal), TimeSpan.FromMinutes(3), "the second trial");
                await using (var fill = new FileStream(ballast, FileMode.CreateNew, FileAccess.Write))
                {
                    var chunk = new byte[1 << 16];
                    try
                    {
                        while (true)
                        {
                            fill.Write(chunk);
                            fill.Flush();
                        }
                    }
                    catch (IOException e) when (AunceSearch.Checkpoints.DurableFile.IsDiskFull(e))
                    {
                        // full
                    }
                }

                // Paused, saying why; then space is freed and it goes on by itself.
                await run.WaitForLineAsync(l => l.Contains("No space left on device", StringComparison.Ordinal) || l.Contains("no space left on device", StringComparison.Ordinal),
                    TimeSpan.FromMinutes(2), "a write refused for want of space");
                Assert.False(run.Process.HasExited, run.Log);
                File.Delete(ballast);
                Assert.True(run.Process.WaitForExit(TimeSpan.FromMinutes(3)), "the run did not go on once space was freed:\n" + run.Log);
                run.Process.WaitForExit();
                Assert.True(run.Process.ExitCode == 0, $"exit {run.Process.ExitCode}:\n{run.Log}");
                rows = Rows(run.Output);
            }

            Assert.Empty(Directory.GetFiles(disk, "*.tmp*", SearchOption.AllDirectories));   // nothing half written left behind

            var clean = CliHarness.TempDirectory();
            var (code, output, err) = await CliHarness.Run("sweep", "run", spec, "--id", "clean", "--journal", Path.Combine(clean, "journal"),
                "--config", $"Aunce:Checkpoints:Path={clean}/ckpt", "--config", $"Aunce:Silo:StatePath={clean}/state");
            Assert.True(code == 0, err);
            Assert.Equal(6, rows.Length);
            Assert.Equal(Rows(output), rows);

            // The journal is whole: events 1..n, each line a complete event.
            var sequences = File.ReadAllLines(Path.Combine(journal, "full", "events.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("Sequence").GetInt64()).ToList();
            Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (long)i), sequences);
        }
        finally
        {
            using var umount = Process.Start("umount", ["-l", disk])!;
            await umount.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Resuming_an_unknown_sweep_or_a_damaged_journal_is_refused_and_changes_nothing()
    {
        var journal = CliHarness.TempDirectory();
        var (code, _, err) = await CliHarness.Run("sweep", "resume", "nothing-here", "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains($"no sweep 'nothing-here': no journal at {Path.Combine(journal, "nothing-here")}", err);

        var dir = Path.Combine(journal, "damaged");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "spec.yaml"), File.ReadAllText(Spec(CliHarness.TempDirectory())));
        File.WriteAllText(Path.Combine(dir, "settings.json"), "{}");
        var good = """{"Sequence":1,"Kind":"sweep","Trial":-1,"Fold":null,"Epoch":null,"Value":null,"State":"running","Message":"started"}""";
        File.WriteAllText(Path.Combine(dir, "events.jsonl"), good + "\n{\"Sequence\":2,\"Kin\n" + good.Replace("\"Sequence\":1", "\"Sequence\":3", StringComparison.Ordinal) + "\n");
        var before = File.ReadAllBytes(Path.Combine(dir, "events.jsonl"));
        (code, _, err) = await CliHarness.Run("sweep", "resume", "damaged", "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains("events.jsonl:2: not a sweep event in sequence (the last good event is #1, line 1)", err);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, "events.jsonl")));

        (code, _, err) = await CliHarness.Run("sweep", "status", "../up", "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains("must be 1-100 letters", err);
    }

    [Fact]
    public async Task Resuming_a_sweep_whose_stored_state_is_damaged_exits_2_at_once_naming_the_record()
    {
        var work = CliHarness.TempDirectory();
        var journal = Path.Combine(work, "journal");
        string[] config = ["--config", $"Aunce:Checkpoints:Path={work}/ckpt", "--config", $"Aunce:Silo:StatePath={work}/state"];
        var (code, _, err) = await CliHarness.Run(["sweep", "run", Spec(work), "--id", "hurt", "--journal", journal, .. config]);
        Assert.True(code == 0, err);

        // The journal's newest segment overwritten (a disk fault, a stray edit).
        var segment = Directory.GetFiles(Path.Combine(work, "state", "sweep-log"), "hurt_*.bin", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Last();
        await File.WriteAllTextAsync(segment, "not what was written");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (code, _, err) = await CliHarness.Run(["sweep", "resume", "hurt", "--journal", journal, .. config]);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: sweep 'hurt': its stored state cannot be read ({segment}: ", err);
        Assert.Contains("restore that record from a backup", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.DoesNotContain("did not answer", err);   // no minute of retries: damage is not an outage
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed.TotalSeconds:0} s");
    }

    [Fact]
    public async Task A_secret_given_by_config_is_found_nowhere_on_disk_after_a_sweep()
    {
        var work = CliHarness.TempDirectory();
        var secret = $"s3cr3t-{Guid.NewGuid():N}";
        var (code, _, err) = await CliHarness.Run("sweep", "run", Spec(work), "--id", "quiet", "--journal", Path.Combine(work, "journal"),
            "--config", $"Aunce:Checkpoints:Path={work}/ckpt", "--config", $"Aunce:Silo:StatePath={work}/state", "--config", $"Aunce:Api:Token={secret}");
        Assert.True(code == 0, err);
        Assert.Contains("note: Aunce:Api:Token not kept in the sweep's journal", err);
        Assert.DoesNotContain(secret, err);
        var holding = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).Where(f => File.ReadAllText(f).Contains(secret, StringComparison.Ordinal)).ToList();
        Assert.True(holding.Count == 0, $"the secret is on disk in: {string.Join(", ", holding)}");
        Assert.Contains("Aunce:Checkpoints:Path", File.ReadAllText(Path.Combine(work, "journal", "quiet", "settings.json")));   // the rest is kept
    }

    [Theory]
    [InlineData("Aunce:Api:Token", "x", true)]
    [InlineData("Aunce:Checkpoints:ConnectionString", "UseDevelopmentStorage=true", true)]
    [InlineData("Aunce:Silo:Redis", "redis:6379,password=hunter2", true)]
    [InlineData("Aunce:Silo:Redis", "redis:6379", false)]
    [InlineData("Aunce:Checkpoints:Path", "/data/ckpt", false)]
    [InlineData("Aunce:Training:Slots", "2", false)]
    public void Secrets_are_known_by_their_names_and_by_what_their_values_carry(string key, string value, bool secret) =>
        Assert.Equal(secret, Hosting.AunceConfiguration.IsSecret(key, value));

    [Fact]
    public void A_torn_last_journal_line_is_dropped_by_the_next_append_and_said_so()
    {
        var root = CliHarness.TempDirectory();
        var journal = SweepJournal.Create(root, "torn", "name: torn\n");
        SweepEvent Event(long n) => new(n, "trial-epoch", 0, null, (int)n, 0.5, "running", $"event {n}");
        journal.Append([Event(1), Event(2)]);
        var file = Path.Combine(journal.Directory, "events.jsonl");
        journal.WriteSettings(new Dictionary<string, string?>());
        File.AppendAllText(file, "{\"Sequence\":3,\"Kind\":\"tri");   // the process died mid-append

        var (reopened, _, _, last) = SweepJournal.Open(root, "torn");
        Assert.Equal(2, last);
        Assert.Equal($"{file}:3: the last line is cut short (a write the process did not finish); it is dropped, the journal resumes after event #2", reopened.Warning);
        reopened.Append([Event(3)]);
        Assert.Equal([1L, 2, 3], File.ReadAllLines(file).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("Sequence").GetInt64()));
        Assert.Null(SweepJournal.Open(root, "torn").Journal.Warning);

        // Cut exactly after a whole event: nothing is lost, and the next event starts on a line of its own.
        File.WriteAllText(file, File.ReadAllText(file).TrimEnd('\n'));
        (reopened, _, _, last) = SweepJournal.Open(root, "torn");
        Assert.Equal(3, last);
        reopened.Append([Event(4)]);
        Assert.Equal(4, File.ReadAllLines(file).Length);
    }

    [Fact]
    public async Task A_sweep_kept_in_memory_is_said_not_to_be_resumable()
    {
        var work = CliHarness.TempDirectory();
        var journal = Path.Combine(work, "journal");
        var (code, _, err) = await CliHarness.Run("sweep", "run", Spec(work), "--id", "mem", "--journal", journal, "--config", "Aunce:Silo:GrainStorage=memory",
            "--config", $"Aunce:Checkpoints:Path={work}/ckpt");
        Assert.True(code == 0, err);
        (code, _, err) = await CliHarness.Run("sweep", "resume", "mem", "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains("kept its state in memory", err);
    }
}
