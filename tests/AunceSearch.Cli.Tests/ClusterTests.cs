using System.Diagnostics;
using System.Globalization;
using AunceSearch.Hosting;

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

        /// <summary>The silo's IP:PORT, as <c>aunce silo drain</c> takes it.</summary>
        public string Endpoint => $"127.0.0.1:{settings["Aunce:Silo:SiloPort"]}";

        public Task<int> ExitedAsync() => _process.Process.WaitForExitAsync().ContinueWith(_ => _process.Process.ExitCode, TaskScheduler.Default);

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

    /// <summary>AunceSearch's own log messages (the line after each "AunceSearch.*[id]" category line).</summary>
    private static string AunceLines(string log)
    {
        var lines = log.Split('\n');
        return string.Join('\n', lines.Zip(lines.Skip(1)).Where(p => p.First.Contains(": AunceSearch.", StringComparison.Ordinal)).Select(p => p.Second.Trim()));
    }

    private static string[] Rows(string output) =>
        [.. output.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s+\d+\s+\d+ (completed|pruned|failed|running)"))];

    /// <summary>The cluster of the tests: two trainer-only silos and a coordinator-only one, started together.</summary>
    private sealed class Silos(string work, Func<bool, Dictionary<string, string>> settings) : IDisposable
    {
        public Silo Trainer1 { get; } = new("trainer-1", work, settings(true));

        public Silo Trainer2 { get; } = new("trainer-2", work, settings(true));

        public Silo Coordinator { get; } = new("coordinator", work, settings(false));

        public Task StartedAsync() => Task.WhenAll(Trainer1.StartedAsync(), Trainer2.StartedAsync(), Coordinator.StartedAsync());

        public void Dispose()
        {
            Trainer1.Dispose();
            Trainer2.Dispose();
            Coordinator.Dispose();
        }
    }

    /// <summary>The options that make a CLI command an Orleans client of the test cluster, journaling under <paramref name="journal"/>.</summary>
    private static string[] ClientArgs(string journal, string redis, string cluster) =>
        ["--journal", journal, "--config", $"Aunce:Cluster:Redis={redis}", "--config", $"Aunce:Cluster:ClusterId={cluster}", "--config", $"Aunce:Cluster:ServiceId={cluster}",
         "--config", $"Aunce:Tls:CertificatePath={Path.Combine(Certificates.Value, ClusterCertificates.ClientCertificate)}",
         "--config", $"Aunce:Tls:KeyPath={Path.Combine(Certificates.Value, ClusterCertificates.ClientKey)}",
         "--config", $"Aunce:Tls:CaPath={Path.Combine(Certificates.Value, ClusterCertificates.CaCertificate)}"];

    /// <summary>The tests' cluster runs as deployed: mutual TLS between every silo and client (aunce cluster certs).</summary>
    private static readonly Lazy<string> Certificates = new(() =>
    {
        var dir = Path.Combine(CliHarness.TempDirectory(), "certs");
        ClusterCertificates.Write(dir, "cluster-tests", 30, []);
        return dir;
    });

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
        ["Aunce:Tls:CertificatePath"] = Path.Combine(Certificates.Value, ClusterCertificates.SiloCertificate),
        ["Aunce:Tls:KeyPath"] = Path.Combine(Certificates.Value, ClusterCertificates.SiloKey),
        ["Aunce:Tls:CaPath"] = Path.Combine(Certificates.Value, ClusterCertificates.CaCertificate),
    };

    /// <summary>
    /// A trainer silo killed (SIGKILL), hung (SIGSTOP) or drained (SIGTERM: a scale-down, a pre-emption notice) mid-fold: the
    /// sweep hears of it from membership, and the fold resumes on the other trainer from its stored epoch.
    /// </summary>
    [Theory]
    [InlineData("KILL")]
    [InlineData("STOP")]
    [InlineData("TERM")]
    [InlineData("DRAIN")]
    public async Task A_trainer_silo_killed_hung_or_drained_mid_fold_is_declared_dead_and_its_folds_resume_on_the_other_trainer(string signal)
    {
        // Enough epochs that the victim is still training when its signal lands (a drain from the CLI takes a second or two,
        // and an epoch of this model can take 0.05 s: with 12 epochs a victim once finished every fold before a SIGSTOP landed).
        const int Epochs = 40;
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
            training: {epochs: {{Epochs}}, batch_size: 8, probe_steps: 5, device: cpu}
            search:
              trials: 2
              max_concurrent_trials: 2
              sampler: random
              scheduler: {kind: none}
              space: {lr: {log_uniform: [1.0e-3, 1.0e-2]} }
            """);
        var journal = Path.Combine(work, "journal");
        string[] client = ClientArgs(journal, redis, cluster);
        using var silos = new Silos(work, Settings);
        var (trainer1, trainer2, coordinator) = (silos.Trainer1, silos.Trainer2, silos.Coordinator);
        await silos.StartedAsync();

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
        var hit = Stopwatch.StartNew();
        if (signal == "DRAIN")
        {
            // As on SIGTERM, but asked from anywhere that reaches the cluster: returns once the silo has left, which exits.
            (code, output, err) = await CliHarness.Run(["silo", "drain", victim.Endpoint, .. client]);
            Assert.True(code == 0, err + output);
            Assert.Contains("left the cluster", output);
            Assert.Equal(0, await victim.ExitedAsync().WaitAsync(TimeSpan.FromMinutes(1)));

            // A drain naming a silo that is not there (any more) is refused, naming it and the silos there are.
            var (badCode, _, badErr) = await CliHarness.Run(["silo", "drain", victim.Endpoint, .. client]);
            Assert.Equal(2, badCode);
            Assert.Contains($"'{victim.Endpoint}' names no active silo", badErr);
            Assert.Contains(survivor.Endpoint, badErr);
        }
        else
        {
            await victim.SignalAsync(signal);
        }


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

        // Every fold the victim left mid-way resumed on the survivor from a checkpoint, losing at most the epoch in progress:
        // its last logged epoch L was trained, and L - 1 was surely stored (a fold reports its epochs in order).
        var epochLine = new System.Text.RegularExpressions.Regex($@"Fold ({System.Text.RegularExpressions.Regex.Escape(id)}/t\d+/f\d) epoch (\d+):");
        var interrupted = epochLine.Matches(victim.Log).GroupBy(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))
            .Select(g => (Fold: g.Key, Last: g.Max())).Where(f => f.Last is >= 2 and < Epochs).ToList();
        Assert.True(interrupted.Count > 0, $"SIG{signal}: the victim left no fold mid-way\nvictim:\n{FoldLines(victim.Log)}");
        foreach (var (fold, last) in interrupted)
        {
            var resume = new System.Text.RegularExpressions.Regex($@"Fold {System.Text.RegularExpressions.Regex.Escape(fold)} resumes from \S+/e(\d+)\.ckpt").Match(survivor.Log);
            Assert.True(resume.Success && int.Parse(resume.Groups[1].Value, CultureInfo.InvariantCulture) >= last - 1,
                $"{fold} (epoch {last} trained on the victim) did not resume on the survivor from epoch {last - 1} or later.\nvictim:\n{FoldLines(victim.Log)}\nsurvivor:\n{FoldLines(survivor.Log)}");
        }

        // And the results are those of a run with no failure.
        (code, output, err) = await CliHarness.Run(["sweep", "run", spec, "--id", $"{id}-clean", .. client]);
        Assert.True(code == 0, err + output);
        Assert.True(Rows(output).SequenceEqual(resumed), $"SIG{signal}: the results differ from a run with no failure.\nclean:\n{string.Join('\n', Rows(output))}\n" +
            $"after the failure:\n{string.Join('\n', resumed)}\nvictim:\n{FoldLines(victim.Log)}\nsurvivor:\n{FoldLines(survivor.Log)}\ncoordinator:\n{AunceLines(coordinator.Log)}");
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
        string[] client = ClientArgs(journal, redis, cluster);
        using var silos = new Silos(work, Settings);
        var (trainer1, trainer2, coordinator) = (silos.Trainer1, silos.Trainer2, silos.Coordinator);
        await silos.StartedAsync();
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
        var (code, _, err) = await CliHarness.Run(["sweep", "run", spec, .. ClientArgs(CliHarness.TempDirectory(), Redis, "nobody-home"),
            "--config", "Aunce:Cluster:ConnectTimeoutSeconds=3"]);
        Assert.Equal(2, code);
        Assert.Contains($"cluster 'nobody-home' (membership in Redis {Redis}) not reachable within 3 s", err);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }
}
