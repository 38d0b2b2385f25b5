using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// <c>aunce serve</c> and <c>aunce sweep run</c> as separate processes in one folder, as a user runs them: the sweep is
/// submitted to the server's silo, and the server's HTTP API shows it (listed, its events streamed to the end, its best
/// checkpoint downloadable). SIGTERM stops the server and removes its record.
/// </summary>
public sealed class ServeTests
{
    [Fact]
    public async Task A_sweep_run_beside_aunce_serve_runs_on_the_server_and_its_API_shows_it()
    {
        var work = CliHarness.TempDirectory();
        var data = CliHarness.SyntheticDataset();
        File.WriteAllText(Path.Combine(work, "spec.yaml"), $$$"""
            name: served
            seed: 5
            dataset: {root: {{{data}}}, folds: [1, 2], image_size: 32}
            model: {encoder: small-cnn, width: 4, feature_dim: 8}
            training: {epochs: 2, device: cpu, probe_steps: 5}
            search:
              trials: 2
              max_concurrent_trials: 2
              sampler: random
              scheduler: {kind: none}
              space:
                lr: {log_uniform: [1.0e-4, 1.0e-2]}
            """);
        var port = CliHarness.FreePort();
        using var server = AunceProcess.Start(work, ["serve", "--port", port.ToString(CultureInfo.InvariantCulture)]);
        try
        {
            await server.WaitForLineAsync(l => l.StartsWith("serving ", StringComparison.Ordinal), TimeSpan.FromMinutes(2), "aunce serve's 'serving' line");
            Assert.True(File.Exists(Path.Combine(work, ".aunce", "server.json")));

            using var run = AunceProcess.Start(work, ["sweep", "run", "spec.yaml", "--id", "served-1", "--plain"]);
            Assert.True(run.Process.WaitForExit(TimeSpan.FromMinutes(4)), "the sweep did not finish in 4 minutes");
            run.Process.WaitForExit();   // drains the redirected streams
            Assert.True(run.Process.ExitCode == 0, $"sweep run exited {run.Process.ExitCode}:\n{run.Log}");
            Assert.Contains("submitting to this folder's aunce serve", run.Output);

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var sweeps = JsonNode.Parse(await http.GetStringAsync("/api/sweeps"))!.AsArray();
            var row = sweeps.Single(s => s!["id"]!.GetValue<string>() == "served-1")!;
            Assert.Equal("completed", row["state"]!.GetValue<string>());
            var events = await http.GetStringAsync("/api/sweeps/served-1/events");
            Assert.Contains("event: trial-epoch", events);
            Assert.EndsWith("event: end\ndata: {\"state\":\"completed\"}\n\n", events);
            Assert.Contains("<title>AunceSearch</title>", await http.GetStringAsync("/"));   // the dashboard
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/orleans/version")).StatusCode);   // Orleans' dashboard
            var download = await http.GetAsync("/api/sweeps/served-1/checkpoint?format=safetensors");   // loopback, no token configured
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal(64, download.Headers.GetValues("X-Checksum-Sha256").Single().Length);
        }
        finally
        {
            if (!server.Process.HasExited)
            {
                await server.SignalAsync("TERM");
                Assert.True(server.Process.WaitForExit(TimeSpan.FromSeconds(30)), $"aunce serve did not stop on SIGTERM:\n{server.Log}");
            }
        }

        Assert.False(File.Exists(Path.Combine(work, ".aunce", "server.json")), "the server's record outlived it");
    }
}
