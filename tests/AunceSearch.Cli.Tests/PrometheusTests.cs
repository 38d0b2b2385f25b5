using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// The Grafana dashboards against a real Prometheus (Debian's, which ./test.sh installs): <c>aunce serve</c> exports its
/// metrics on a loopback port, Prometheus scrapes it every second while <c>aunce sweep run</c> trains a small ASHA sweep on
/// it, and then every panel's PromQL in dashboards/*.json is evaluated through Prometheus's HTTP API: each must return
/// at least one finite sample (no dead panels). The scrape configuration in deploy/ is checked with promtool.
/// </summary>
public sealed class PrometheusTests
{
    private static string RepoRoot => AunceSearch.Tests.TestFixtures.RepositoryRoot;

    [Fact]
    public void The_deployed_scrape_configuration_is_valid()
    {
        var promtool = Run("/usr/bin/promtool", ["check", "config", Path.Combine(RepoRoot, "deploy", "prometheus", "prometheus.yml")]);
        Assert.True(promtool.Code == 0, $"promtool check config failed:\n{promtool.Output}");
    }

    [Fact]
    public async Task Every_Grafana_panel_returns_data_from_a_real_Prometheus_scraping_a_silo_during_a_sweep()
    {
        Assert.True(File.Exists("/usr/bin/prometheus"), "Debian's prometheus is missing: ./test.sh installs it (apt-get install prometheus)");
        var panels = Panels().ToList();
        Assert.True(panels.Count >= 20, $"only {panels.Count} panel queries in dashboards/");

        var work = CliHarness.TempDirectory();

        // Enough data, and scrapes every 250 ms, that the sweep spans many scrapes however fast this CPU trains: a rate is an
        // increase between two scrapes.
        var data = Path.Combine(work, "data");
        AunceSearch.Training.Data.SyntheticAuFaces.Generate(data, new AunceSearch.Model.SyntheticOptions
        {
            Subjects = 6, ImagesPerSubject = 48, ImageSize = 32, Folds = 2, OccurrenceRates = [0.3, 0.6, 0.4],
        });
        File.WriteAllText(Path.Combine(work, "spec.yaml"), $$$"""
            name: scraped
            seed: 9
            dataset: {root: {{{data}}}, folds: [1, 2], image_size: 32}
            model: {encoder: small-cnn, width: 4, feature_dim: 8}
            training: {epochs: 4, device: cpu, probe_steps: 20}
            search:
              trials: 4
              max_concurrent_trials: 2
              sampler: random
              scheduler: {kind: asha, grace_period: 1, reduction_factor: 2}
              space:
                lr: {log_uniform: [1.0e-4, 1.0e-2]}
            """);
        var (apiPort, metricsPort, prometheusPort) = (CliHarness.FreePort(), CliHarness.FreePort(), CliHarness.FreePort());
        File.WriteAllText(Path.Combine(work, "prometheus.yml"), $"""
            global: {"{"}scrape_interval: 250ms, evaluation_interval: 250ms{"}"}
            scrape_configs:
              - job_name: aunce
                static_configs: [{"{"}targets: ['127.0.0.1:{metricsPort}']{"}"}]
            """);

        using var server = AunceProcess.Start(work, ["serve", "--port", apiPort.ToString(CultureInfo.InvariantCulture),
            "--config", $"Aunce:Telemetry:PrometheusPort={metricsPort}"]);
        using var prometheus = Process.Start(new ProcessStartInfo("/usr/bin/prometheus",
        [
            $"--config.file={Path.Combine(work, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(work, "tsdb")}",
            $"--web.listen-address=127.0.0.1:{prometheusPort}", "--log.level=warn",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var prometheusLog = new System.Text.StringBuilder();
        prometheus.OutputDataReceived += (_, e) => { lock (prometheusLog) { prometheusLog.AppendLine(e.Data); } };
        prometheus.ErrorDataReceived += (_, e) => { lock (prometheusLog) { prometheusLog.AppendLine(e.Data); } };
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{prometheusPort}"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            await server.WaitForLineAsync(l => l.StartsWith("serving ", StringComparison.Ordinal), TimeSpan.FromMinutes(2), "aunce serve's 'serving' line");
            await Until(async () => (await http.GetAsync("/-/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), () => $"Prometheus never became ready:\n{prometheusLog}");
            await Until(async () => await Sample(http, "up{job=\"aunce\"}") == 1, TimeSpan.FromSeconds(30), () => $"Prometheus does not scrape the silo:\n{prometheusLog}");

            using var run = AunceProcess.Start(work, ["sweep", "run", "spec.yaml", "--id", "scraped-1", "--plain"]);
            Assert.True(run.Process.WaitForExit(TimeSpan.FromMinutes(4)), "the sweep did not finish in 4 minutes");
            run.Process.WaitForExit();
            Assert.True(run.Process.ExitCode == 0, $"sweep run exited {run.Process.ExitCode}:\n{run.Log}");

            // The last state is scraped: every trial has ended (none running) in the gauge Prometheus holds.
            await Until(async () => await Sample(http, "sum(aunce_sweep_trials{aunce_sweep=\"scraped-1\",state!=\"running\"})") == 4 &&
                                    await Sample(http, "sum(aunce_sweep_trials{aunce_sweep=\"scraped-1\",state=\"running\"}) or vector(0)") == 0,
                TimeSpan.FromSeconds(30), () => "Prometheus never saw the sweep's 4 trials end");

            var changes = await Sample(http, "sum(changes(aunce_fold_epochs_total{aunce_sweep=\"scraped-1\"}[5m]))");
            Assert.True(changes >= 2, $"the fold epoch counter changed in {changes} scrapes: the sweep was too short to check rates against");

            var dead = new List<string>();
            foreach (var (dashboard, title, expr) in panels)
            {
                var query = expr.Replace("$__rate_interval", "1m", StringComparison.Ordinal).Replace("$__interval", "15s", StringComparison.Ordinal)
                    .Replace("$__range", "1h", StringComparison.Ordinal).Replace("$sweep", ".*", StringComparison.Ordinal);
                var answer = JsonNode.Parse(await http.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}"))!;
                var results = answer["data"]?["result"]?.AsArray() ?? [];
                var finite = results.Count(r => double.TryParse(r!["value"]![1]!.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v));
                if (answer["status"]!.GetValue<string>() != "success" || finite == 0)
                {
                    dead.Add($"{dashboard} / {title}: {query} → {answer.ToJsonString()[..Math.Min(300, answer.ToJsonString().Length)]}");
                }
            }

            Assert.True(dead.Count == 0, $"{dead.Count} of {panels.Count} panel queries return no data:\n{string.Join("\n", dead)}");
        }
        finally
        {
            if (!prometheus.HasExited)
            {
                prometheus.Kill(entireProcessTree: true);
                prometheus.WaitForExit();
            }

            if (!server.Process.HasExited)
            {
                await server.SignalAsync("TERM");
                server.Process.WaitForExit(TimeSpan.FromSeconds(30));
            }
        }
    }

    /// <summary>Every panel query of every dashboard (rows' nested panels too), as (dashboard, panel title, expression).</summary>
    private static IEnumerable<(string Dashboard, string Title, string Expr)> Panels()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(RepoRoot, "dashboards"), "*.json").Order(StringComparer.Ordinal))
        {
            var dashboard = JsonNode.Parse(File.ReadAllText(file))!;
            var name = Path.GetFileName(file);
            foreach (var panel in Flatten(dashboard["panels"]!.AsArray()))
            {
                var targets = panel["targets"]?.AsArray() ?? [];
                Assert.True(targets.Count > 0 || panel["type"]!.GetValue<string>() == "row", $"{name}: panel '{panel["title"]}' has no query");
                foreach (var target in targets)
                {
                    yield return (name, panel["title"]!.GetValue<string>(), target!["expr"]!.GetValue<string>());
                }
            }
        }

        static IEnumerable<JsonNode> Flatten(JsonArray panels) =>
            panels.SelectMany(p => p!["panels"] is JsonArray nested ? Flatten(nested).Prepend(p) : [p!]);
    }

    /// <summary>The first sample's value of an instant query, or NaN when it has none.</summary>
    private static async Task<double> Sample(HttpClient http, string query)
    {
        try
        {
            var answer = JsonNode.Parse(await http.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}"))!;
            var result = answer["data"]!["result"]!.AsArray();
            return result.Count == 0 ? double.NaN : double.Parse(result[0]!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException)
        {
            return double.NaN;
        }
    }

    private static async Task Until(Func<Task<bool>> condition, TimeSpan within, Func<string> failure)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure());
            await Task.Delay(250);
        }
    }

    private static (int Code, string Output) Run(string file, string[] args)
    {
        Assert.True(File.Exists(file), $"{file} is missing: ./test.sh installs Debian's prometheus");
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error);
    }
}
