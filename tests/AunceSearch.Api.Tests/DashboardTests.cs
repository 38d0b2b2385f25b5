using Microsoft.Playwright;

namespace AunceSearch.Api.Tests;

/// <summary>
/// The dashboard in a real browser (Microsoft.Playwright driving Debian's /usr/bin/chromium, which ./test.sh installs):
/// it loads with no console errors, lists the served sweep, shows its trial table (sortable on the server), learning
/// curves and the best trial's per-AU bars. A screenshot is kept next to the test binaries (dashboard.png).
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class DashboardTests(ApiFixture fixture)
{
    [Fact]
    public async Task The_dashboard_shows_the_sweep_its_trials_and_charts_with_no_console_errors()
    {
        Assert.True(File.Exists("/usr/bin/chromium"), "Debian's chromium is missing: ./test.sh installs it (apt-get install chromium)");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        var errors = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                errors.Add(m.Text);
            }
        };
        page.PageError += (_, e) => errors.Add(e);

        await page.GotoAsync(fixture.BaseUrl + "/");
        var sweep = page.Locator($"#sweeps li[data-id='{ApiFixture.SweepId}']");
        await sweep.WaitForAsync(new LocatorWaitForOptions { Timeout = 20_000 });
        await sweep.ClickAsync();
        await Assertions.Expect(page.Locator("#summary")).ToContainTextAsync("completed");
        await Assertions.Expect(page.Locator("#trials tbody tr")).ToHaveCountAsync(4);
        await Assertions.Expect(page.Locator("#curves polyline.curve")).ToHaveCountAsync(4);
        await Assertions.Expect(page.Locator("#per-au rect.au-bar")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#decisions")).ToContainTextAsync("trial");

        // Sorting by value, descending (two clicks), puts the best trial first.
        var best = JsonTrial((await fixture.Client.GetStringAsync($"/api/sweeps/{ApiFixture.SweepId}")));
        await page.Locator("#trials th[data-key='value']").ClickAsync();
        await Assertions.Expect(page.Locator("#trials th[data-key='value']")).ToContainTextAsync("▲");
        await page.Locator("#trials th[data-key='value']").ClickAsync();
        await Assertions.Expect(page.Locator("#trials tbody tr").First.Locator("td").First).ToHaveTextAsync(best);

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "dashboard.png"), FullPage = true });
        Assert.True(errors.Count == 0, "console errors:\n" + string.Join("\n", errors));
    }

    private static string JsonTrial(string sweepJson) =>
        System.Text.Json.Nodes.JsonNode.Parse(sweepJson)!["sweep"]!["bestTrial"]!.GetValue<int>().ToString(System.Globalization.CultureInfo.InvariantCulture);
}
