using System.Globalization;
using System.Net;
using System.Text.Json;
using AunceSearch.Bench.Synthetic;
using AunceSearch.Spec;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AunceSearch.Api.Tests;

/// <summary>
/// One sweep's stored state damaged on disk (as `aunce serve` keeps it, in file grain storage): the sweep list still shows
/// every other sweep and marks that one with the record and why; its own endpoint answers a problem naming the record,
/// never an empty 500.
/// </summary>
public sealed class DamagedStateTests
{
    /// <summary>An embedded silo with the API, its sweeps in files under <paramref name="state"/>.</summary>
    private static async Task<(WebApplication App, HttpClient Client)> ServeAsync(string state)
    {
        var builder = WebApplication.CreateSlimBuilder();
        var url = $"http://127.0.0.1:{ApiFixture.FreePort()}";
        builder.WebHost.UseUrls(url);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Aunce:Checkpoints:Path"] = Path.Combine(state, "checkpoints"),
            ["Aunce:Silo:GrainStorage"] = "file",
            ["Aunce:Silo:StatePath"] = Path.Combine(state, "state"),
            ["Aunce:Silo:SiloPort"] = ApiFixture.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Aunce:Silo:GatewayPort"] = ApiFixture.FreePort().ToString(CultureInfo.InvariantCulture),
        });
        builder.Logging.ClearProviders();
        builder.AddAunceSilo();
        builder.Services.AddAunceApi(new AunceApiOptions { Token = ApiFixture.Token });
        var app = builder.Build();
        app.MapAunceApi();
        await app.StartAsync();
        var client = new HttpClient { BaseAddress = new Uri(url) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ApiFixture.Token);
        return (app, client);
    }

    [Fact]
    public async Task A_damaged_sweep_is_listed_as_such_beside_the_others_and_its_endpoint_names_the_record()
    {
        var work = Path.Combine(Path.GetTempPath(), "aunce-api-tests", Guid.NewGuid().ToString("N"));
        var definition = SweepSpecLoader.Parse("""
            name: damaged
            seed: 3
            dataset: {root: data, folds: [1, 2], image_size: 32}
            training: {epochs: 4, device: cpu}
            search: {trials: 10, sampler: random, scheduler: {kind: asha, grace_period: 1, reduction_factor: 2}, space: {lr: {log_uniform: [1.0e-4, 1.0e-2]}}}
            """, "spec.yaml", work);

        var (app, client) = await ServeAsync(work);
        await using (app)
        {
            foreach (var id in new[] { "good-1", "bad", "good-2" })
            {
                await SyntheticSweeps.WriteAsync(app.Services, definition, id, 30);
            }
        }

        // The bad sweep's snapshot record overwritten (a disk fault, a stray edit); then a new server reads the folder.
        var record = Assert.Single(Directory.GetFiles(Path.Combine(work, "state"), "bad.bin", SearchOption.AllDirectories),
            f => f.Contains("sweep-snapshot", StringComparison.Ordinal) && !f.Contains("chunk", StringComparison.Ordinal));
        await File.WriteAllTextAsync(record, "not what was written");

        (app, client) = await ServeAsync(work);
        await using (app)
        {
            var list = await client.GetAsync("/api/sweeps");
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            var rows = JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!);
            Assert.Equal(["bad", "good-1", "good-2"], rows.Keys.Order());
            Assert.Equal(30, rows["good-1"].GetProperty("started").GetInt32());
            Assert.Equal(JsonValueKind.Null, rows["good-2"].GetProperty("error").ValueKind);
            var error = rows["bad"].GetProperty("error").GetString()!;
            Assert.Contains(record, error);
            Assert.Contains("restore that record from a backup", error);
            Assert.DoesNotContain("Exception", error);

            var one = await client.GetAsync("/api/sweeps/bad");
            Assert.Equal(HttpStatusCode.InternalServerError, one.StatusCode);
            Assert.Equal("application/problem+json", one.Content.Headers.ContentType?.MediaType);
            var detail = JsonDocument.Parse(await one.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString()!;
            Assert.StartsWith("sweep 'bad': its stored state cannot be read (", detail);
            Assert.Contains(record, detail);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/sweeps/good-2")).StatusCode);
        }
    }
}
