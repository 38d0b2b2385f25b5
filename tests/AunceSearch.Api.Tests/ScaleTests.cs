using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace AunceSearch.Api.Tests;

/// <summary>
/// The HTTP API over a synthetic 100,000-trial sweep: every dashboard request answers with a page, not the sweep.
/// Latencies are printed (and kept in api-latency.json next to the test binaries) for bench/dashboard/run.sh, which judges
/// them against the 200 ms an interaction may take; the test only fails on a bound no page-sized answer reaches on a
/// loaded runner (median 2 s, first 20 s).
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ScaleTests(ApiFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task At_100000_trials_every_dashboard_request_answers_with_a_page()
    {
        var overview = await fixture.LargeAsync();
        Assert.Equal(ApiFixture.LargeTrials, overview.Started);
        var id = ApiFixture.LargeId;
        string[] requests =
        [
            $"/api/sweeps",
            $"/api/sweeps/{id}",
            $"/api/sweeps/{id}/trials?offset=0&limit=200&sort=trial&order=asc",
            $"/api/sweeps/{id}/trials?offset=50000&limit=200&sort=trial&order=asc",
            $"/api/sweeps/{id}/trials?offset=0&limit=200&sort=value&order=desc",
            $"/api/sweeps/{id}/trials?offset=60000&limit=200&sort=value&order=desc",
            $"/api/sweeps/{id}/trials?offset=0&limit=200&sort=trial&order=asc&state=completed",
            $"/api/sweeps/{id}/trials?offset=0&limit=200&sort=param:lr&order=asc&min_value=0.5",
            $"/api/sweeps/{id}/trials/{overview.BestTrial}",
            $"/api/sweeps/{id}/decisions?offset={overview.Decisions - 100}&limit=100",
            $"/api/sweeps/{id}/points?max=2000",
            $"/api/sweeps/{id}/importance",
        ];
        var report = new JsonObject();
        var worst = new List<string>();
        foreach (var url in requests)
        {
            var times = new List<double>();
            for (var i = 0; i < 7; i++)
            {
                var clock = Stopwatch.StartNew();
                using var response = await fixture.Client.GetAsync(url);
                var body = await response.Content.ReadAsByteArrayAsync();
                times.Add(clock.Elapsed.TotalMilliseconds);
                Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode}");
                Assert.True(body.Length < 2_000_000, $"{url}: {body.Length} bytes; a page must not carry the sweep");
            }

            // The first request of a new ordering pays for the sort; the dashboard's scroll then reuses it.
            var first = times[0];
            times.Sort();
            var line = $"{url}: first {first:0.0} ms, min {times[0]:0.0} ms, median {times[3]:0.0} ms";
            output.WriteLine(line);
            report[url] = new JsonObject { ["first_ms"] = Math.Round(first, 1), ["min_ms"] = Math.Round(times[0], 1), ["median_ms"] = Math.Round(times[3], 1) };
            if (times[3] > 2_000 || first > 20_000)
            {
                worst.Add(line);
            }
        }

        await File.WriteAllTextAsync(Path.Combine(AppContext.BaseDirectory, "api-latency.json"), report.ToJsonString(new() { WriteIndented = true }));
        Assert.True(worst.Count == 0, "slow at 100,000 trials:\n" + string.Join("\n", worst));

        // The whole table, paged from the grain: seconds, not minutes (Optuna #763: 13 minutes for a few thousand trials).
        foreach (var format in new[] { "parquet", "csv" })
        {
            var clock = Stopwatch.StartNew();
            using var export = await fixture.Client.GetAsync($"/api/sweeps/{id}/export?format={format}");
            var size = (await export.Content.ReadAsByteArrayAsync()).Length;
            output.WriteLine($"export of {ApiFixture.LargeTrials} trials as {format}: {clock.Elapsed.TotalSeconds:0.00} s, {size / 1e6:0.0} MB");
            Assert.True(export.IsSuccessStatusCode, $"export {format}: {(int)export.StatusCode}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"export {format}: {clock.Elapsed.TotalSeconds:0.0} s");
        }

        var page = JsonNode.Parse(await fixture.Client.GetStringAsync($"/api/sweeps/{id}/trials?offset=99990&limit=200"))!;
        Assert.Equal(ApiFixture.LargeTrials, page["total"]!.GetValue<int>());
        Assert.Equal(10, page["items"]!.AsArray().Count);
        Assert.Equal((99_999).ToString(CultureInfo.InvariantCulture), page["items"]!.AsArray()[^1]!["trial"]!.ToJsonString());
    }
}
