using System.Text.Json.Nodes;

namespace AunceSearch.Cli.Tests;

public sealed class LossCheckTests
{
    private static string Vectors => AunceSearch.Tests.TestFixtures.Path("aunce/reference-vectors.json");

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => CliHarness.Run(args);

    [Fact]
    public async Task The_reference_vectors_pass()
    {
        var (code, output, err) = await Run("loss", "check", "--vectors", Vectors);
        Assert.True(code == 0, err + output);
        Assert.Contains("6 of 6 cases within tolerance", output);
        Assert.Contains("ok   main_head", output);
    }

    [Fact]
    public async Task A_wrong_expected_loss_fails_with_exit_one_and_names_the_case()
    {
        var json = JsonNode.Parse(File.ReadAllText(Vectors))!;
        json["cases"]![0]!["loss"] = json["cases"]![0]!["loss"]!.GetValue<double>() * 1.001;
        var file = Path.Combine(Path.GetTempPath(), $"vectors-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json.ToJsonString());
        var (code, output, _) = await Run("loss", "check", "--vectors", file);
        Assert.Equal(1, code);
        Assert.Contains("FAIL main_head", output);
    }

    [Fact]
    public async Task A_missing_or_malformed_file_exits_two()
    {
        Assert.Equal(2, (await Run("loss", "check", "--vectors", "/no/vectors.json")).Code);
        var file = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, "{\"cases\": [{\"name\": \"x\"}]}");
        var (code, _, err) = await Run("loss", "check", "--vectors", file);
        Assert.Equal(2, code);
        Assert.Contains("not a reference-vectors file", err);
        Assert.Equal(2, (await Run("loss", "check")).Code);
    }
}
