using System.Text.Json.Nodes;

namespace AunceSearch.Cli.Tests;

public sealed class SchedulerReplayTests
{
    private static string Traces => AunceSearch.Tests.TestFixtures.Path("aunce/pruner-traces");

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => CliHarness.Run(args);

    [Fact]
    public async Task Replay_prints_one_json_decision_per_report_and_check_passes()
    {
        var file = Path.Combine(Traces, "hyperband-1.json");
        var (code, output, err) = await Run("scheduler", "replay", file, "--check");
        Assert.True(code == 0, err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var reports = JsonNode.Parse(File.ReadAllText(file))!["events"]!.AsArray().Count(e => e!["step"] is not null);
        Assert.Equal(reports, lines.Length);
        var first = JsonNode.Parse(lines[0])!;
        Assert.NotNull(first["trial"]);
        Assert.NotNull(first["step"]);
        Assert.Contains(first["decision"]!.GetValue<string>(), new[] { "continue", "prune" });
        Assert.Contains($"{reports} of {reports} decisions agree", err);
    }

    [Fact]
    public async Task Check_fails_and_lists_a_tampered_decision()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Traces, "successive_halving-1.json")))!;
        var e = json["events"]!.AsArray().First(x => x!["decision"]?.GetValue<string>() == "prune")!;
        e["decision"] = "continue";
        var file = Path.Combine(Path.GetTempPath(), $"tampered-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json.ToJsonString());
        var (code, _, err) = await Run("scheduler", "replay", file, "--check");
        Assert.Equal(1, code);
        Assert.Contains("1 of", err);
        Assert.Contains($"trial {e["trial"]} step {e["step"]}: trace says continue, AunceSearch says prune", err);
    }

    [Fact]
    public async Task A_missing_or_malformed_trace_exits_two()
    {
        Assert.Equal(2, (await Run("scheduler", "replay", "/no/trace.json")).Code);
        var file = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, "{\"format\": \"aunce-pruner-trace/1\", \"direction\": \"minimize\", \"pruner\": {\"kind\": \"magic\"}, \"events\": []}");
        var (code, _, err) = await Run("scheduler", "replay", file);
        Assert.Equal(2, code);
        Assert.Contains("pruner kind 'magic'", err);
    }

    [Theory]
    [InlineData("[]", "not an aunce-pruner-trace/1 file: expected a JSON object with format, direction, pruner and events, got an array of 0")]
    [InlineData("42", "not an aunce-pruner-trace/1 file: expected a JSON object with format, direction, pruner and events, got 42")]
    [InlineData("{\"format\": 1}", "format must be a string, got 1")]
    [InlineData("{\"format\": \"aunce-pruner-trace/1\", \"direction\": \"minimize\", \"pruner\": [], \"events\": []}", "'pruner' must be an object (its kind and options), got an array of 0")]
    [InlineData("{\"format\": \"aunce-pruner-trace/1\", \"direction\": \"minimize\", \"pruner\": {}, \"events\": {}}", "'events' must be an array, got an object")]
    [InlineData("{\"format\": \"aunce-pruner-trace/1\", \"direction\": \"minimize\", \"pruner\": {}, \"events\": [{\"trial\": \"one\", \"step\": 1}]}", "events[0].trial must be a whole number, got \"one\"")]
    [InlineData("{\"format\": \"aunce-pruner-trace/1\", \"direction\": \"minimize\", \"pruner\": {}, \"events\": [{\"trial\": 0, \"step\": 1.5}]}", "events[0].step must be a whole number, got 1.5")]
    [InlineData("{\"format\": \"aunce-pruner-trace/1\", \"direction\": \"minimize\", \"pruner\": {}, \"events\": [7]}", "events[0] has no trial (an event is an object, got 7)")]
    public async Task A_trace_of_the_wrong_shape_is_named_by_what_was_expected(string json, string expected)
    {
        var file = Path.Combine(Path.GetTempPath(), $"shape-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json);
        var (code, stdout, err) = await Run("scheduler", "replay", file);
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Equal($"error: {file}: {expected}", err.Trim());
        File.Delete(file);
    }
}
