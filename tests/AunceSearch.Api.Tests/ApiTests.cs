using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AunceSearch.Bench.Synthetic;
using AunceSearch.Contracts;
using AunceSearch.Spec;
using AunceSearch.Tests;
using AunceSearch.Training;
using AunceSearch.Training.Evaluation;
using AunceSearch.Training.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AunceSearch.Api.Tests;

/// <summary>
/// One embedded silo (as <c>aunce serve</c> composes it) with a synthetic trainer that writes real checkpoints, the API
/// on Kestrel on a loopback port, and one finished 4-trial sweep: what the API and the dashboard show of it.
/// </summary>
public sealed class ApiFixture : IAsyncLifetime
{
    public const string Token = "test-token-of-at-least-32-characters";

    public const string SweepId = "api-sweep";

    public WebApplication App { get; private set; } = null!;

    /// <summary>A client that sends the token (every surface needs it when the server has one).</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>A client without the token.</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    public string BaseUrl { get; private set; } = "";

    public string Work { get; } = Path.Combine(Path.GetTempPath(), "aunce-api-tests", Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        BaseUrl = $"http://127.0.0.1:{FreePort()}";
        builder.WebHost.UseUrls(BaseUrl);   // a real loopback port: the browser tests load the dashboard from it
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Aunce:Checkpoints:Path"] = Path.Combine(Work, "checkpoints"),
            ["Aunce:Silo:GrainStorage"] = "memory",
            ["Aunce:Silo:SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["Aunce:Silo:GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
        });
        builder.Logging.ClearProviders();
        builder.AddAunceSilo();
        builder.Services.AddSingleton<IFoldTrainingRunner, CheckpointingTrainer>();   // after the silo's: the one resolved

        // The synthetic 100,000-trial sweep's first activation reads and parses its whole state (~10 s on an idle 2-core
        // machine, several times that under a loaded CI runner): calls wait for it instead of failing at Orleans' 30 s.
        builder.Services.Configure<Orleans.Configuration.SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMinutes(5));
        builder.Services.Configure<Orleans.Configuration.GrainCollectionOptions>(o => o.ActivationTimeout = TimeSpan.FromMinutes(5));
        builder.Services.AddAunceApi(new AunceApiOptions { Token = Token });
        App = builder.Build();
        App.MapAunceApi();
        await App.StartAsync();
        Client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Anonymous = new HttpClient { BaseAddress = new Uri(BaseUrl) };

        var data = Path.Combine(Work, "data");
        Training.Data.SyntheticAuFaces.Generate(data, new Model.SyntheticOptions { Subjects = 4, ImagesPerSubject = 2, ImageSize = 32, Folds = 2 });
        var spec = $$$"""
            name: api
            seed: 3
            dataset: {root: {{{data}}}, folds: [1, 2], image_size: 32}
            model: {encoder: small-cnn, width: 4, feature_dim: 8}
            training: {epochs: 3, device: cpu}
            search:
              trials: 4
              max_concurrent_trials: 2
              sampler: random
              scheduler: {kind: none}
              space: {lr: {log_uniform: [1.0e-4, 1.0e-2]}}
            """;
        var sweep = App.Services.GetRequiredService<IGrainFactory>().GetGrain<ISweepGrain>(SweepId);
        await sweep.StartAsync(SweepSpecLoader.Parse(spec, "api.yaml", Work));
        await SweepWatch.UntilEndAsync(sweep, TimeSpan.FromMinutes(2));
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        if (Directory.Exists(Work))
        {
            Directory.Delete(Work, recursive: true);
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Epoch metrics from lr and epoch, and a real small-cnn checkpoint per epoch (so downloads export real weights).</summary>
    private sealed class CheckpointingTrainer : IFoldTrainingRunner
    {
        private static readonly string[] Aus = ["AU1", "AU2", "AU4"];

        public async Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
        {
            var lr = double.Parse(request.Hyperparameters["lr"], CultureInfo.InvariantCulture);
            var start = request.ResumeFrom is { } resume ? Checkpoint.ReadHeader(resume, request.Label).Epoch + 1 : 1;
            for (var epoch = start; epoch <= request.Epochs; epoch++)
            {
                if (Gates.TryGetValue(request.Label.Split('/')[0], out var gate))
                {
                    await gate.Task.WaitAsync(cancellationToken);   // a live test holds its sweep here until the page is watching
                }

                var f1 = 0.3 + (0.05 * epoch) - (0.02 * Math.Abs(Math.Log10(lr) + 3)) + (0.01 * request.Dataset.Fold);
                using var encoder = EncoderFactory.Create(request.Model, Aus.Length);
                var checkpoint = Checkpoint.Write(new CheckpointHeader
                {
                    Label = request.Label, Epoch = epoch, Seed = request.Seed, AuNames = Aus, Model = request.Model, Hyperparameters = request.Hyperparameters,
                }, encoder, (Action<BinaryWriter>?)null);
                onEpoch(new EpochResult(epoch, 1.0 / epoch, new AuMetrics(Aus, [f1, f1 + 0.01, f1 - 0.01], [0.6, 0.6, 0.6]), 1, 0.01), checkpoint);
            }

            return (TrainingOutcome.Completed, null);
        }
    }

    /// <summary>Sweeps whose folds wait before each epoch until their gate opens (by sweep id).</summary>
    public static System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> Gates { get; } = new();

    /// <summary>Starts a 2-trial, 2-epoch sweep whose training waits for <paramref name="gate"/>.</summary>
    public async Task StartGatedAsync(string sweepId, TaskCompletionSource gate)
    {
        Gates[sweepId] = gate;
        var spec = $$$"""
            name: live
            seed: 4
            dataset: {root: {{{Path.Combine(Work, "data")}}}, folds: [1, 2], image_size: 32}
            model: {encoder: small-cnn, width: 4, feature_dim: 8}
            training: {epochs: 2, device: cpu}
            search:
              trials: 2
              max_concurrent_trials: 2
              sampler: random
              scheduler: {kind: none}
              space: {lr: {log_uniform: [1.0e-4, 1.0e-2]}}
            """;
        await App.Services.GetRequiredService<IGrainFactory>().GetGrain<ISweepGrain>(sweepId).StartAsync(SweepSpecLoader.Parse(spec, "live.yaml", Work));
    }

    private Task<SweepOverview>? _large;

    /// <summary>The synthetic 100,000-trial sweep (written once, on first use): what the scale tests measure.</summary>
    public Task<SweepOverview> LargeAsync() => _large ??= SyntheticSweeps.WriteAsync(App.Services, SweepSpecLoader.Parse($$$"""
        name: large
        seed: 21
        dataset: {root: {{{Path.Combine(Work, "data")}}}, folds: [1, 2, 3], image_size: 32}
        training: {epochs: 8, device: cpu}
        search:
          trials: 10
          sampler: random
          scheduler: {kind: asha, grace_period: 1, reduction_factor: 2}
          space:
            lr: {log_uniform: [1.0e-4, 1.0e-2]}
            temperature: {log_uniform: [0.03, 0.3]}
            lambda_min: {uniform: [0.8, 1.6]}
            lambda_maj: {uniform: [0.2, 1.0]}
            batch_size: {choice: [32, 64, 128]}
            positives: {simplex: [p_max, p_aug, p_mix, p_min], fixed: {p_min: 0}}
        """, "large.yaml", Work), LargeId, LargeTrials);

    public const string LargeId = "large-100k";

    public const int LargeTrials = 100_000;
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiFixture>
{
    public const string Name = "one served sweep";
}

[Collection(ApiCollection.Name)]
public sealed class ApiTests(ApiFixture fixture)
{
    private HttpClient Client => fixture.Client;

    private static async Task<JsonNode> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task Sweeps_are_listed_with_state_and_best_trial_and_one_sweep_has_counts_by_state()
    {
        var sweeps = (await Json(await Client.GetAsync("/api/sweeps"))).AsArray();
        var row = sweeps.Single(s => s!["id"]!.GetValue<string>() == ApiFixture.SweepId)!;
        Assert.Equal("completed", row["state"]!.GetValue<string>());
        Assert.Equal(4, row["started"]!.GetValue<int>());
        Assert.Equal(2, row["folds"]!.GetValue<int>());
        Assert.Equal("random", row["sampler"]!.GetValue<string>());
        Assert.NotNull(row["bestTrial"]);

        var detail = await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}"));
        Assert.Equal(4, detail["trialsByState"]!["completed"]!.GetValue<int>());
        Assert.True(detail["lastEventSequence"]!.GetValue<long>() > 10);
    }

    [Fact]
    public async Task Trials_page_sorts_and_filters_on_the_server()
    {
        var page = await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/trials?sort=value&order=desc&limit=2&offset=1"));
        Assert.Equal(4, page["total"]!.GetValue<int>());
        var items = page["items"]!.AsArray();
        Assert.Equal(2, items.Count);
        var all = (await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/trials?sort=value&order=desc")))["items"]!.AsArray();
        var values = all.Select(t => t!["value"]!.GetValue<double>()).ToList();
        Assert.Equal(values.OrderByDescending(v => v), values);
        Assert.Equal(all[1]!["trial"]!.GetValue<int>(), items[0]!["trial"]!.GetValue<int>());
        Assert.Equal(0, (await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/trials?state=running")))["total"]!.GetValue<int>());
        Assert.Equal(4, (await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/trials?state=completed")))["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Trials_sort_by_a_parameter_filter_by_value_and_carry_fold_values_and_curves()
    {
        var byLr = (await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/trials?sort=param:lr&order=desc")))["items"]!.AsArray();
        var lrs = byLr.Select(t => double.Parse(t!["hyperparameters"]!["lr"]!.GetValue<string>(), CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(lrs.OrderDescending(), lrs);
        Assert.All(byLr, t => Assert.Equal(2, t!["foldValues"]!.AsArray().Count));
        Assert.All(byLr, t => Assert.Equal(3, t!["history"]!.AsArray().Count));

        var values = byLr.Select(t => t!["value"]!.GetValue<double>()).Order().ToList();
        var cut = values[2];
        var good = await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/trials?min_value={cut.ToString("R", CultureInfo.InvariantCulture)}"));
        Assert.Equal(2, good["total"]!.GetValue<int>());

        var detail = await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}"));
        Assert.Equal("max", detail["mode"]!.GetValue<string>());
        Assert.Equal("lr", Assert.Single(detail["parameters"]!.AsArray())!["name"]!.GetValue<string>());
        var points = await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/points"));
        Assert.Equal(4, points["shown"]!.GetValue<int>());
        Assert.Equal(["lr"], points["parameters"]!.AsArray().Select(p => p!.GetValue<string>()));
        var trial = await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/trials/0"));
        Assert.Equal(2, trial["trial"]!["foldHistory"]!.AsArray().Count);   // a learning curve per fold
        Assert.All(trial["trial"]!["foldHistory"]!.AsArray(), h => Assert.Equal(3, h!.AsArray().Count));
    }

    [Fact]
    public async Task A_trial_has_per_fold_per_AU_metrics_with_baselines_history_and_decisions()
    {
        var trial = await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/trials/1"));
        var summary = trial["trial"]!;
        Assert.Equal(3, summary["history"]!.AsArray().Count);
        var fold = summary["lastFolds"]!.AsArray()[0]!;
        Assert.Equal(3, fold["f1PerAu"]!.AsArray().Count);
        Assert.Equal(["AU1", "AU2", "AU4"], fold["auNames"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(3, fold["accuracyPerAu"]!.AsArray().Count);
        Assert.NotNull(fold["allActiveF1PerAu"]?.AsArray());   // the test split's baselines (this synthetic trainer reports none)
        Assert.Contains(trial["decisions"]!.AsArray(), d => d!["kind"]!.GetValue<string>() == "complete");
    }

    [Fact]
    public async Task Events_stream_as_server_sent_events_and_resume_after_the_last_event_id()
    {
        var all = await ReadEvents(new HttpRequestMessage(HttpMethod.Get, $"/api/sweeps/{ApiFixture.SweepId}/events"));
        Assert.Equal("end", all[^1].Event);
        var ids = all.Where(e => e.Id is not null).Select(e => e.Id!.Value).ToList();
        Assert.Equal(Enumerable.Range(1, ids.Count).Select(i => (long)i), ids);   // every event, in order, none missed
        Assert.Contains(all, e => e.Event == "trial-epoch");

        var reconnect = new HttpRequestMessage(HttpMethod.Get, $"/api/sweeps/{ApiFixture.SweepId}/events");
        reconnect.Headers.Add("Last-Event-ID", "7");
        var later = await ReadEvents(reconnect);
        Assert.Equal(8, later[0].Id);
        Assert.Equal(ids.Count - 7, later.Count(e => e.Id is not null));
    }

    [Fact]
    public async Task A_checkpoint_downloads_with_the_token_and_its_sha256_matches()
    {
        var url = $"/api/sweeps/{ApiFixture.SweepId}/checkpoint?format=pt";
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.Anonymous.GetAsync(url)).StatusCode);
        var response = await Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(response.Headers.GetValues("X-Checksum-Sha256").Single(), Convert.ToHexStringLower(SHA256.HashData(body)));
        Assert.Equal("PK", System.Text.Encoding.ASCII.GetString(body[..2]));   // PyTorch's zip container (ExportTests loads it in PyTorch)
        Assert.EndsWith(".pt", response.Content.Headers.ContentDisposition!.FileName!.Trim('"'), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/sweeps/..%2F..%2Fetc", HttpStatusCode.BadRequest, "sweep id")]
    [InlineData("/api/sweeps/no-such-sweep", HttpStatusCode.NotFound, "no sweep 'no-such-sweep'")]
    [InlineData("/api/sweeps/api-sweep/trials?limit=0", HttpStatusCode.BadRequest, "limit")]
    [InlineData("/api/sweeps/api-sweep/trials?offset=-1", HttpStatusCode.BadRequest, "offset")]
    [InlineData("/api/sweeps/api-sweep/trials?state=sleeping", HttpStatusCode.BadRequest, "state: 'sleeping'")]
    [InlineData("/api/sweeps/api-sweep/trials?sort=name", HttpStatusCode.BadRequest, "sort: 'name'")]
    [InlineData("/api/sweeps/api-sweep/trials/99", HttpStatusCode.NotFound, "no trial 99")]
    [InlineData("/api/sweeps/api-sweep/trials/x", HttpStatusCode.BadRequest, "not a trial number")]
    [InlineData("/api/sweeps/api-sweep/trials?sort=param:momentum", HttpStatusCode.BadRequest, "sort: 'param:momentum'")]
    [InlineData("/api/sweeps/api-sweep/trials?min_value=NaN", HttpStatusCode.BadRequest, "min_value")]
    [InlineData("/api/sweeps/api-sweep/trials?limit=1001", HttpStatusCode.BadRequest, "limit")]
    [InlineData("/api/sweeps/api-sweep/decisions?limit=0", HttpStatusCode.BadRequest, "limit")]
    [InlineData("/api/sweeps/api-sweep/points?max=0", HttpStatusCode.BadRequest, "max")]
    [InlineData("/api/sweeps/no-such-sweep/points", HttpStatusCode.NotFound, "no sweep 'no-such-sweep'")]
    [InlineData("/api/sweeps/api-sweep/trials?limit=abc", HttpStatusCode.BadRequest, "limit\" from \"abc")]
    [InlineData("/api/sweeps/api-sweep/decisions?trial=x", HttpStatusCode.BadRequest, "trial\" from \"x")]
    [InlineData("/api/sweeps/api-sweep/points?max=1e3", HttpStatusCode.BadRequest, "max\" from \"1e3")]
    [InlineData("/api/sweeps/api-sweep/events?after=soon", HttpStatusCode.BadRequest, "after\" from \"soon")]
    [InlineData("/api/sweeps/api-sweep/export?format=xlsx", HttpStatusCode.BadRequest, "format: 'xlsx' is not one of csv, jsonl, parquet")]
    [InlineData("/api/sweeps/api-sweep/export?curves=maybe", HttpStatusCode.BadRequest, "curves\" from \"maybe")]
    [InlineData("/api/sweeps/no-such-sweep/export", HttpStatusCode.NotFound, "no sweep 'no-such-sweep'")]
    [InlineData("/api/sweeps/api-sweep/importance?quantile=1.5", HttpStatusCode.BadRequest, "quantile: must be in (0, 1]")]
    [InlineData("/api/sweeps/api-sweep/importance?epoch=99", HttpStatusCode.BadRequest, "epoch: must be between 1 and the sweep's 3 epochs")]
    public async Task Bad_requests_are_refused_naming_what_is_wrong(string url, HttpStatusCode status, string message)
    {
        var response = await Client.GetAsync(url);
        Assert.Equal(status, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        var said = System.Text.Json.JsonDocument.Parse(body).RootElement.TryGetProperty("error", out var error) ? error.GetString()! : body;
        Assert.Contains(message, said);
        if (status == HttpStatusCode.BadRequest)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);   // every 400 is a problem with a body
        }
    }

    [Fact]
    public async Task The_export_is_every_trial_as_a_table_with_params_folds_and_decisions_and_curves_per_epoch()
    {
        var trials = (await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/trials?sort=trial")))["items"]!.AsArray();
        using var csv = await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/export?format=csv");
        Assert.True(csv.IsSuccessStatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        var header = lines[0].Split(',');
        Assert.Equal(["sweep_id", "trial", "state", "last_epoch", "target_epoch", "value", "mean_f1", "mean_accuracy", "params_lr"], header[..9]);   // the searched first
        Assert.Equal(["fold_0_value", "fold_1_value", "decision", "decision_epoch", "decision_reason", "error"], header[^6..]);
        Assert.Contains("params_temperature", header);   // the fixed values too: a row is the whole configuration
        Assert.Equal(5, lines.Length);
        for (var i = 0; i < 4; i++)
        {
            var cells = lines[i + 1].Split(',');
            string Cell(string name) => cells[Array.IndexOf(header, name)];
            Assert.Equal(trials[i]!["trial"]!.GetValue<int>().ToString(CultureInfo.InvariantCulture), Cell("trial"));
            Assert.Equal(trials[i]!["value"]!.GetValue<double>(), double.Parse(Cell("value"), CultureInfo.InvariantCulture));
            Assert.Equal(trials[i]!["hyperparameters"]!["lr"]!.GetValue<string>(), Cell("params_lr"));
            Assert.Equal(trials[i]!["foldValues"]![1]!.GetValue<double>(), double.Parse(Cell("fold_1_value"), CultureInfo.InvariantCulture));
            Assert.Equal("complete", Cell("decision"));
        }

        using var jsonl = await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/export?format=jsonl&curves=true");
        var rows = (await jsonl.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n').Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(4 * 3, rows.Count);   // 4 trials x 3 epochs
        Assert.Equal(trials[0]!["history"]!.AsArray().Select(v => v!.GetValue<double>()),
            rows.Where(r => r["trial"]!.GetValue<int>() == trials[0]!["trial"]!.GetValue<int>()).OrderBy(r => r["epoch"]!.GetValue<int>()).Select(r => r["value"]!.GetValue<double>()));

        using var parquet = await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/export?format=parquet");
        var bytes = await parquet.Content.ReadAsByteArrayAsync();
        Assert.Equal("PAR1"u8.ToArray(), bytes[..4]);
        Assert.Equal("PAR1"u8.ToArray(), bytes[^4..]);
    }

    [Fact]
    public async Task Importance_names_its_method_and_answers_once_the_top_quantile_holds_two_trials()
    {
        var few = await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/importance"));
        Assert.StartsWith("PED-ANOVA", few["method"]!.GetValue<string>());
        Assert.Equal(4, few["trials"]!.GetValue<int>());
        Assert.Empty(few["parameters"]!.AsArray());
        Assert.Contains("needs at least 2", few["note"]!.GetValue<string>());

        var half = await Json(await Client.GetAsync($"/api/sweeps/{ApiFixture.SweepId}/importance?quantile=0.5&epoch=2"));
        Assert.Equal(2, half["topTrials"]!.GetValue<int>());
        var row = Assert.Single(half["parameters"]!.AsArray())!;   // lr, the one searched parameter
        Assert.Equal("lr", row["parameter"]!.GetValue<string>());
        Assert.Equal(1.0, row["share"]!.GetValue<double>(), 12);
    }

    [Fact]
    public async Task A_malformed_last_event_id_is_a_bad_request_not_a_missing_sweep()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/sweeps/{ApiFixture.SweepId}/events");
        request.Headers.Add("Last-Event-ID", "abc");
        var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Last-Event-ID: 'abc' is not an event id", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_bad_download_format_and_a_missing_fold_are_refused()
    {
        foreach (var (query, status) in new[] { ("format=onnx", HttpStatusCode.BadRequest), ("fold=9", HttpStatusCode.NotFound) })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"/api/sweeps/{ApiFixture.SweepId}/checkpoint?{query}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiFixture.Token);
            Assert.Equal(status, (await Client.SendAsync(request)).StatusCode);
        }
    }

    [Fact]
    public async Task Cancel_needs_the_token_and_the_OpenAPI_document_lists_the_endpoints()
    {
        var refused = await fixture.Anonymous.PostAsync($"/api/sweeps/{ApiFixture.SweepId}/cancel", null);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Bearer realm=\"aunce\"", refused.Headers.WwwAuthenticate.ToString());   // says how to authenticate
        var openApi = await Client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/api/sweeps/{id}/trials", openApi);
        Assert.Contains("/api/sweeps/{id}/events", openApi);
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080", null, "not loopback; set Aunce:Api:Token")]
    [InlineData("ftp://127.0.0.1:8080", null, "is not an http(s) URL")]
    [InlineData("http://0.0.0.0:8080", "t", "Aunce:Api:Token: 1 characters; a token needs at least 32")]
    [InlineData("http://0.0.0.0:8080", "0123456789abcdef0123456789abcdef", "would send the token in clear text beyond loopback")]
    [InlineData("https://0.0.0.0:8443", "0123456789abcdef0123456789abcdef", "is https; set Aunce:Api:CertificatePath and Aunce:Api:KeyPath")]
    [InlineData("http://127.0.0.1:8080", "0123456789abcdef0123456789abcde", "Aunce:Api:Token: 31 characters; a token needs at least 32")]
    public void Binding_beyond_loopback_without_a_token_or_with_a_short_one_is_refused(string urls, string? token, string message)
    {
        var e = Assert.Throws<InvalidOperationException>(() => new AunceApiOptions { Urls = urls, Token = token }.Validate());
        Assert.Contains(message, e.Message);
        // With a token, behind a TLS-terminating proxy or with a certificate: accepted.
        new AunceApiOptions { Urls = urls.Replace("ftp", "http", StringComparison.Ordinal), Token = new string('k', 32), BehindTlsProxy = true, CertificatePath = "c.pem", KeyPath = "c.key" }.Validate();
    }

    private sealed record Sse(long? Id, string Event, string Data);

    private async Task<List<Sse>> ReadEvents(HttpRequestMessage request)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var text = await response.Content.ReadAsStringAsync(cts.Token);   // the stream ends after the 'end' event
        var events = new List<Sse>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n').Where(l => !l.StartsWith(':')).ToList();
            if (lines.Count == 0)
            {
                continue;
            }

            string Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name + ": ", StringComparison.Ordinal))?[(name.Length + 2)..] ?? "";
            var id = Field("id");
            events.Add(new Sse(id.Length > 0 ? long.Parse(id, CultureInfo.InvariantCulture) : null, Field("event"), Field("data")));
        }

        return events;
    }
}
