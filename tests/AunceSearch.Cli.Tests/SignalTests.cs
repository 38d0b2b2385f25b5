using System.Diagnostics;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// The real <c>aunce</c> process and real signals: a foreground sweep stops cleanly on SIGTERM, on SIGINT and on
/// <c>aunce sweep cancel</c> from another process, and resumes; a second follower of it is refused meanwhile.
/// </summary>
public sealed class SignalTests
{
    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    [InlineData("sweep cancel")]
    [InlineData("INT detach")]
    public async Task A_signal_or_sweep_cancel_stops_a_foreground_sweep_writes_its_journal_and_exits_one(string signal)
    {
        var detach = signal.EndsWith(" detach", StringComparison.Ordinal);
        signal = signal.Replace(" detach", "", StringComparison.Ordinal);
        var work = CliHarness.TempDirectory();
        var data = CliHarness.SyntheticDataset();
        var spec = Path.Combine(work, "spec.yaml");
        await File.WriteAllTextAsync(spec, $$"""
            name: sig
            seed: 1
            dataset: {root: {{data}}, folds: [1, 2], image_size: 32}
            model: {width: 4, feature_dim: 8}
            training: {epochs: 20, batch_size: 8, probe_steps: 5, device: cpu}
            search: {trials: 2, max_concurrent_trials: 1, scheduler: {kind: none}, space: {lr: {log_uniform: [1.0e-3, 1.0e-2]} } }
            """);
        var journal = Path.Combine(work, "journal");
        string[] args = ["sweep", "run", spec, "--journal", journal, "--id", "sig", .. (detach ? (string[])["--on-interrupt", "detach"] : [])];
        using var aunce = AunceProcess.Start(work, args);
        var process = aunce.Process;
        try
        {
            await aunce.WaitForLineAsync(l => l.Contains(" epoch 1: F1", StringComparison.Ordinal), TimeSpan.FromMinutes(3), "the first fold epoch");

            // While it runs, its record answers: `sweep status` reads the state files the running process writes.
            var (running, runningOut, runningErr) = await CliHarness.Run("sweep", "status", "sig", "--journal", journal, "--json");
            Assert.True(running == 0, runningErr);
            using (var live = System.Text.Json.JsonDocument.Parse(runningOut))
            {
                Assert.Equal((int)Contracts.SweepState.Running, live.RootElement.GetProperty("State").GetInt32());
            }

            // A second follower of the same sweep is refused while this one lives.
            var (second, _, secondErr) = await CliHarness.Run("sweep", "resume", "sig", "--journal", journal);
            Assert.True(second == 2, $"exit {second}: {secondErr}");
            Assert.Contains($"sweep 'sig' is followed by process {process.Id}", secondErr);

            var sent = Stopwatch.StartNew();
            if (signal == "sweep cancel")
            {
                var (cancelled, cancelOut, cancelErr) = await CliHarness.Run("sweep", "cancel", "sig", "--journal", journal);
                Assert.True(cancelled == 0, cancelErr);
                Assert.Contains($"sweep sig cancelled by its process {process.Id}", cancelOut);
            }
            else
            {
                await aunce.SignalAsync(signal);
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(sent.Elapsed < TimeSpan.FromSeconds(30), $"stopped {sent.Elapsed.TotalSeconds:0.0} s after SIG{signal}");
        }
        finally
        {
            if (!process.HasExited)
            {
                aunce.Kill();
            }
        }

        process.WaitForExit();   // drains the redirected streams
        Assert.DoesNotContain("NNPACK", aunce.Log);   // libtorch's per-convolution warning on CPUs NNPACK does not support (Zen 4: ~930 lines a trial)
        var stdout = aunce.Output;
        var errors = aunce.Errors;
        Assert.True(process.ExitCode == 1, $"exit {process.ExitCode}\n{stdout}\n{errors}");
        if (detach)
        {
            // Detached, not cancelled: the sweep is still running in its stored state; its folds stopped at a step.
            Assert.Contains("interrupted: detached from sweep sig (1 trial(s) running; they stop at the next step", errors);
            Assert.DoesNotContain("cancelled", stdout);
        }
        else
        {
            Assert.True(stdout.Contains("sweep cancelled", StringComparison.Ordinal) && errors.Contains("error: sweep cancelled", StringComparison.Ordinal),
                $"not reported as cancelled:\n{aunce.Log}");
        }

        Assert.False(errors.Contains(" at AunceSearch.", StringComparison.Ordinal), "a stack trace on stderr:\n" + errors);
        Assert.Single(Directory.GetDirectories(journal));
        var (read, readOut, readErr) = await CliHarness.Run("sweep", "status", "sig", "--journal", journal, "--json");
        Assert.True(read == 0, readErr);
        using (var status = System.Text.Json.JsonDocument.Parse(readOut))
        {
            Assert.Equal((int)(detach ? Contracts.SweepState.Running : Contracts.SweepState.Cancelled), status.RootElement.GetProperty("State").GetInt32());
        }

        // A cancelled (or detached) sweep is resumable: its interrupted trial continues from its checkpoints and the sweep completes.
        var (code, resumed, err) = await CliHarness.Run("sweep", "resume", "sig", "--journal", journal);
        Assert.True(code == 0, err + resumed);
        Assert.Contains("resumed", resumed);
        Assert.Contains("2 completed, 0 failed", resumed);
    }
}
