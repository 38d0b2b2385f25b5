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
    /// <summary>spec.yaml in <paramref name="work"/>: 2 trials of a small CNN on the tests' synthetic dataset, both at once.</summary>
    private static void WriteSpec(string work, string name, int epochs, int seed) => File.WriteAllText(Path.Combine(work, "spec.yaml"), $$$"""
        name: {{{name}}}
        seed: {{{seed}}}
        dataset: {root: {{{CliHarness.SyntheticDataset()}}}, folds: [1, 2], image_size: 32}
        model: {encoder: small-cnn, width: 4, feature_dim: 8}
        training: {epochs: {{{epochs}}}, device: cpu, probe_steps: 5}
        search:
          trials: 2
          max_concurrent_trials: 2
          sampler: random
          scheduler: {kind: none}
          space:
            lr: {log_uniform: [1.0e-4, 1.0e-2]}
        """);

    [Fact]
    public async Task A_sweep_run_beside_aunce_serve_runs_on_the_server_and_its_API_shows_it()
    {
        var work = CliHarness.TempDirectory();
        WriteSpec(work, "served", epochs: 2, seed: 5);
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

    [Fact]
    public async Task Aunce_serve_shows_a_sweep_a_killed_run_left_without_continuing_it_until_it_is_resumed()
    {
        var work = CliHarness.TempDirectory();
        WriteSpec(work, "left", epochs: 150, seed: 6);

        // A sweep run in this folder, killed (SIGKILL) once it is training (150 epochs: it is still training when the kill
        // lands): its state says running.
        using (var run = AunceProcess.Start(work, ["sweep", "run", "spec.yaml", "--id", "left", "--plain"]))
        {
            await run.WaitForLineAsync(l => l.Contains(" epoch 1: F1", StringComparison.Ordinal), TimeSpan.FromMinutes(3), "the first fold epoch");
            run.Kill();
            run.Process.WaitForExit();
        }

        var port = CliHarness.FreePort();
        using var server = AunceProcess.Start(work, ["serve", "--port", port.ToString(CultureInfo.InvariantCulture)]);
        try
        {
            await server.WaitForLineAsync(l => l.StartsWith("serving ", StringComparison.Ordinal), TimeSpan.FromMinutes(2), "aunce serve's 'serving' line");
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            async Task<(string State, long Events)> Sweep()
            {
                var sweep = JsonNode.Parse(await http.GetStringAsync("/api/sweeps/left"))!;
                return (sweep["sweep"]!["state"]!.GetValue<string>(), sweep["lastEventSequence"]!.GetValue<long>());
            }

            // Shown as it was left, and left alone: a restart of its trials reports fold epochs within seconds.
            var shown = await Sweep();
            Assert.Equal("running", shown.State);
            for (var look = 0; look < 10; look++)
            {
                await Task.Delay(500);
                Assert.Equal(shown, await Sweep());
            }

            var (code, output, err) = await CliHarness.Run("sweep", "list", "--journal", Path.Combine(work, ".aunce", "sweeps"));
            Assert.True(code == 0, err);
            Assert.Matches(@"left\s.*running", output);   // the CLI's view agrees

            // Resumed from the dashboard (the API's resume, no CLI following it): it runs on the server to its end, and every
            // view says so — the CLI's too, which reads the sweep's one record, not a copy of its own.
            using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/sweeps/left/resume"))
            {
                request.Headers.Add("X-Aunce-Request", "1");
                Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
            }

            // Its end, from the API's event stream (it closes with an 'end' event naming the sweep's state).
            using (var bound = new CancellationTokenSource(TimeSpan.FromMinutes(4)))
            using (var reader = new StreamReader(await http.GetStreamAsync($"/api/sweeps/left/events?after={shown.Events}", bound.Token)))
            {
                string? line;
                while ((line = await reader.ReadLineAsync(bound.Token)) is not null && line != "event: end")
                {
                }

                Assert.True(line is not null, "the event stream closed without its end event");
                Assert.Contains("completed", await reader.ReadLineAsync(bound.Token));
            }

            Assert.Equal("completed", (await Sweep()).State);

            using var list = AunceProcess.Start(work, ["sweep", "list"]);
            list.Process.WaitForExit();
            Assert.Matches(@"left\s.*completed", list.Output);
        }
        finally
        {
            if (!server.Process.HasExited)
            {
                await server.SignalAsync("TERM");
                server.Process.WaitForExit(TimeSpan.FromSeconds(30));
            }
        }

        // With the server gone, the views read the same record from the state files it left.
        using var offline = AunceProcess.Start(work, ["sweep", "status", "left"]);
        offline.Process.WaitForExit();
        Assert.True(offline.Process.ExitCode == 0, offline.Log);
        Assert.Contains("sweep left: completed", offline.Output);
    }

    [Fact]
    public async Task Aunce_serve_on_a_busy_port_says_so_in_one_line_and_nothing_else()
    {
        using var busy = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var work = CliHarness.TempDirectory();
        using var server = AunceProcess.Start(work, ["serve", "--port", port.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(server.Process.WaitForExit(TimeSpan.FromMinutes(1)), "aunce serve did not exit");
        server.Process.WaitForExit();
        Assert.Equal(2, server.Process.ExitCode);
        Assert.Empty(server.Output.Trim());   // no warning from a silo started only to be torn down
        Assert.Equal($"error: --port {port}: cannot listen on http://127.0.0.1:{port} (Address already in use)", server.Errors.Trim());
    }
}
