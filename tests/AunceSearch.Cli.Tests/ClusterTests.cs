using System.Diagnostics;
using System.Globalization;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// A real cluster of separate processes on Redis clustering and Redis grain storage: one coordinator silo and two trainer
/// silos (<c>aunce silo</c>), a sweep submitted by the CLI as an Orleans client, the coordinator silo killed with SIGKILL
/// mid-sweep and replaced, and the sweep resumed to the same decisions as a clean run. Needs the Redis that test.sh starts.
/// </summary>
public sealed class ClusterTests
{
    private static string Redis => Environment.GetEnvironmentVariable("AUNCE_TEST_REDIS")
        ?? throw new InvalidOperationException("AUNCE_TEST_REDIS is not set: run ./test.sh, which starts Redis on loopback for this test");

    /// <summary>An <c>aunce silo</c> process configured by Aunce__* environment variables.</summary>
    private sealed class Silo(string name, string work, IReadOnlyDictionary<string, string> settings) : IDisposable
    {
        private readonly AunceProcess _process = AunceProcess.Start(work, ["silo"], settings);

        public string Name { get; } = name;

        public Task StartedAsync() =>
            _process.WaitForLineAsync(l => l.Contains("Application started", StringComparison.Ordinal), TimeSpan.FromMinutes(2), $"silo {Name} starting");

        public string Log => _process.Log;

        public Task WaitForAsync(Func<string, bool> matches, string what, TimeSpan? timeout = null) =>
            _process.WaitForLineAsync(matches, timeout ?? TimeSpan.FromMinutes(3), $"silo {Name}: {what}");

        public Task SignalAsync(string signal) => _process.SignalAsync(signal);

        public void Kill() => _process.Kill();   // SIGKILL

        public void Dispose() => _process.Dispose();
    }

    private static string FoldLines(string log) =>
        string.Join('\n', log.Split('\n').Where(l => l.Contains("Fold ", StringComparison.Ordinal)).Select(l => l.Trim()));

    private static string[] Rows(string output) =>
        [.. output.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s+\d+\s+\d+ (completed|pruned|failed|running)"))];

    /// <summary>An <c>aunce silo</c>'s settings in cluster <paramref name="cluster"/> on Redis: a trainer-only or a coordinator-only silo.</summary>
    private static Dictionary<string, string> SiloSettings(string redis, string cluster, string checkpoints, bool trainer, bool fastFailureDetection, int slots = 1) => new()
    {
        ["Aunce:Silo:Clustering"] = "redis",
        ["Aunce:Silo:GrainStorage"] = "redis",
        ["Aunce:Silo:Redis"] = redis,
        ["Aunce:Silo:ClusterId"] = cluster,
        ["Aunce:Silo:ServiceId"] = cluster,
        ["Aunce:Silo:SiloPort"] = CliHarness.FreePort().ToString(CultureInfo.InvariantCulture),
        ["Aunce:Silo:GatewayPort"] = CliHarness.FreePort().ToString(CultureInfo.InvariantCulture),
        ["Aunce:Silo:FastFailureDetection"] = fastFailureDetection ? "true" : "false",
        ["Aunce:Silo:Trainer"] = trainer ? "true" : "false",
        ["Aunce:Silo:Coordinator"] = trainer ? "false" : "true",
        ["Aunce:Checkpoints:Path"] = checkpoints,
        ["Aunce:Training:Slots"] = slots.ToString(CultureInfo.InvariantCulture),
        ["Aunce:Training:TorchThreads"] = "1",
    };

    /// <summary>
    /// A trainer silo killed (SIGKILL), hung (SIGSTOP) or drained (SIGTERM: a scale-down, a pre-emption notice) mid-fold: the
    /// sweep hears of it from membership, and the fold resumes on the other trainer from its stored epoch.
    /// </summary>
    [Theory]
    [InlineData("KILL")]
    [InlineData("STOP")]
    [InlineData("TERM")]
    public async Task A_trainer_silo_killed_hung_or_drained_mid_fold_is_declared_dead_and_its_folds_resume_on_the_other_trainer(string signal)
    {
        var redis = Redis;
        var work = CliHarness.TempDirectory();
        var cluster = $"c{Guid.NewGuid():N}"[..12];
        var checkpoints = Path.Combine(work, "checkpoints");

        // Orleans' default failure detection as AunceSearch tunes it (not the tests' fast one): a hang must be found within 10 s.
        Dictionary<string, string> Settings(bool trainer) => SiloSettings(redis, cluster, checkpoints, trainer, fastFailureDetection: false, slots: 2);
        var spec = Path.Combine(work, "spec.yaml");
        await File.WriteAllTextAsync(spec, $$"""
            name: tk
            seed: 5
            dataset: {root: {{CliHarness.SyntheticDataset()}}, folds: [1, 2], image_size: 32}
            model: {width: 4, feature_dim: 8}
            training: {epochs: 8, batch_size: 8, probe_steps: 5, device: cpu}
            search:
              trials: 2
              max_concurrent_trials: 2
              sampler: random
              scheduler: {kind: none}
              space: {lr: {log_uniform: [1.0e-3, 1.0e-2]} }
            """);
        var journal = Path.Combine(work, "journal");
        string[] client = ["--journal", journal, "--config", $"Aunce:Cluster:Redis={redis}", "--config", $"Aunce:Cluster:ClusterId={cluster}",
            "--config", $"Aunce:Cluster:ServiceId={cluster}"];

        using var trainer1 = new Silo("trainer-1", work, Settings(trainer: true));
        using var trainer2 = new Silo("trainer-2", work, Settings(trainer: true));
        using var coordinator = new Silo("coordinator", work, Settings(trainer: false));
        await Task.WhenAll(trainer1.StartedAsync(), trainer2.StartedAsync(), coordinator.StartedAsync());

        var id = $"tk-{signal.ToLowerInvariant()}";
        var (code, output, err) = await CliHarness.Run(["sweep", "run", spec, "--id", id, .. client, "--detach"]);
        Assert.True(code == 0, err + output);

        // The victim: the first trainer to finish a fold's second epoch. A fold reports its epochs in order, each stored by the
        // sweep before the next is reported, so that fold's first epoch is stored; it is killed while training further epochs.
        var finished = new System.Text.RegularExpressions.Regex($@"Fold ({System.Text.RegularExpressions.Regex.Escape(id)}/t\d+/f\d) epoch ([2-9]):");
        async Task<Silo> SecondEpoch(Silo silo)
        {
            await silo.WaitForAsync(finished.IsMatch, "a fold's second epoch");
            return silo;
        }

        var victim = await await Task.WhenAny(SecondEpoch(trainer1), SecondEpoch(trainer2));
        var survivor = victim == trainer1 ? trainer2 : trainer1;
        await victim.SignalAsync(signal);
        var hit = Stopwatch.StartNew();
        var stored = finished.Match(victim.Log).Groups[1].Value;

        // The sweep hears of the death: its membership watch re-drives its trials, or, when the dead silo held the sweep's
        // directory entry, Orleans deactivates the sweep and its next activation restarts them.
        await coordinator.WaitForAsync(l => l.Contains("declared dead; re-driving", StringComparison.Ordinal) || l.Contains($"Sweep {id} resumes with", StringComparison.Ordinal),
            "the trainer's death", TimeSpan.FromSeconds(60));
        var detected = hit.Elapsed;
        (code, output, err) = await CliHarness.Run(["sweep", "resume", id, .. client]);
        Assert.True(code == 0, err + output + coordinator.Log[^Math.Min(4000, coordinator.Log.Length)..]);
        var resumed = Rows(output);
        Assert.Equal(2, resumed.Length);
        Assert.All(resumed, r => Assert.Contains(" completed", r));

        // The victim's fold with a stored epoch resumed on the survivor from a checkpoint, not from scratch.
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(survivor.Log, $@"Fold {System.Text.RegularExpressions.Regex.Escape(stored)} resumes from \S+/e0*[1-9]"),
            $"{stored} did not resume on the survivor from a stored epoch.\nvictim:\n{FoldLines(victim.Log)}\nsurvivor:\n{FoldLines(survivor.Log)}");

        // And the results are those of a run with no failure.
        (code, output, err) = await CliHarness.Run(["sweep", "run", spec, "--id", $"{id}-clean", .. client]);
        Assert.True(code == 0, err + output);
        Assert.True(Rows(output).SequenceEqual(resumed), $"SIG{signal}: the results differ from a run with no failure.\nclean:\n{string.Join('\n', Rows(output))}\n" +
            $"after the failure:\n{string.Join('\n', resumed)}\nvictim:\n{FoldLines(victim.Log)}\nsurvivor:\n{FoldLines(survivor.Log)}");
        Console.WriteLine($"ClusterTests: trainer SIG{signal}: declared dead and re-driven {detected.TotalSeconds:0.0} s later");
        Assert.True(detected < TimeSpan.FromSeconds(20), $"SIG{signal}: detected after {detected.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Killing_the_coordinator_silo_mid_sweep_loses_nothing()
    {
        var redis = Redis;
        var work = CliHarness.TempDirectory();
        var cluster = $"c{Guid.NewGuid():N}"[..12];
        var checkpoints = Path.Combine(work, "checkpoints");
        Dictionary<string, string> Settings(bool trainer) => SiloSettings(redis, cluster, checkpoints, trainer, fastFailureDetection: true);

        var spec = Path.Combine(work, "spec.yaml");
        await File.WriteAllTextAsync(spec, $$"""
            name: cl
            seed: 4
            dataset: {root: {{CliHarness.SyntheticDataset()}}, folds: [1, 2], image_size: 32}
            model: {width: 4, feature_dim: 8}
            training: {epochs: 3, batch_size: 8, probe_steps: 5, device: cpu}
            search:
              trials: 3
              max_concurrent_trials: 1
              sampler: random
              scheduler: {kind: asha, grace_period: 1, reduction_factor: 2}
              space: {lr: {log_uniform: [1.0e-3, 1.0e-2]} }
            """);
        var journal = Path.Combine(work, "journal");
        string[] client = ["--journal", journal, "--config", $"Aunce:Cluster:Redis={redis}", "--config", $"Aunce:Cluster:ClusterId={cluster}",
            "--config", $"Aunce:Cluster:ServiceId={cluster}"];

        using var trainer1 = new Silo("trainer-1", work, Settings(trainer: true));
        using var trainer2 = new Silo("trainer-2", work, Settings(trainer: true));
        using var coordinator = new Silo("coordinator", work, Settings(trainer: false));
        await Task.WhenAll(trainer1.StartedAsync(), trainer2.StartedAsync(), coordinator.StartedAsync());
        Silo? replacement = null;
        try
        {
            var (code, output, err) = await CliHarness.Run(["sweep", "run", spec, "--id", "crash", "--detach", .. client]);
            Assert.True(code == 0, err + output);
            Assert.Contains("sweep crash runs on cluster", output);

            // Mid-sweep (the second trial has written a checkpoint), the coordinator silo dies without a word.
            var second = Path.Combine(checkpoints, "crash", "t001");
            var watch = Stopwatch.StartNew();
            while (!Directory.Exists(second) || Directory.GetFiles(second, "*.ckpt", SearchOption.AllDirectories).Length == 0)
            {
                Assert.True(watch.Elapsed < TimeSpan.FromMinutes(3), "the sweep made no progress:\n" + coordinator.Log[^Math.Min(4000, coordinator.Log.Length)..]);
                await Task.Delay(100);
            }

            coordinator.Kill();
            replacement = new Silo("coordinator-2", work, Settings(trainer: false));
            await replacement.StartedAsync();

            (code, output, err) = await CliHarness.Run(["sweep", "resume", "crash", .. client]);
            Assert.True(code == 0, err + output);
            var resumed = Rows(output);
            Assert.Equal(3, resumed.Length);

            (code, output, err) = await CliHarness.Run(["sweep", "run", spec, "--id", "clean", .. client]);
            Assert.True(code == 0, err + output);
            Assert.Equal(Rows(output), resumed);

            // Folds trained only on the trainer silos.
            Assert.All(File.ReadAllLines(Path.Combine(journal, "crash", "events.jsonl")).Where(l => l.Contains("\"fold-epoch\"", StringComparison.Ordinal)),
                l => Assert.DoesNotContain("coordinator", l, StringComparison.Ordinal));
        }
        finally
        {
            replacement?.Dispose();
        }
    }

    [Fact]
    public async Task An_unreachable_cluster_fails_within_seconds_naming_it()
    {
        var watch = Stopwatch.StartNew();
        var spec = Path.Combine(CliHarness.TempDirectory(), "spec.yaml");
        await File.WriteAllTextAsync(spec, $"name: x\ndataset: {{root: {CliHarness.SyntheticDataset()}, folds: [1]}}\ntraining: {{epochs: 1, device: cpu}}\nsearch: {{trials: 1}}\n");
        var (code, _, err) = await CliHarness.Run("sweep", "run", spec, "--journal", CliHarness.TempDirectory(),
            "--config", $"Aunce:Cluster:Redis={Redis}", "--config", "Aunce:Cluster:ClusterId=nobody-home", "--config", "Aunce:Cluster:ConnectTimeoutSeconds=3");
        Assert.Equal(2, code);
        Assert.Contains($"cluster 'nobody-home' (membership in Redis {Redis}) not reachable within 3 s", err);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }
}
