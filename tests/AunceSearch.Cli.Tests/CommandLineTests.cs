namespace AunceSearch.Cli.Tests;

/// <summary>The command line itself (System.CommandLine): options in any order, help everywhere, clear errors for what is missing.</summary>
public sealed class CommandLineTests
{
    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => CliHarness.Run(args);

    [Fact]
    public async Task Options_may_come_before_arguments()
    {
        var file = Path.Combine(AunceSearch.Tests.TestFixtures.Path("aunce/pruner-traces"), "hyperband-1.json");
        var (code, output, err) = await Run("scheduler", "replay", "--check", file);
        Assert.True(code == 0, err);
        Assert.Equal((await Run("scheduler", "replay", file, "--check")).Out, output);
    }

    [Theory]
    [InlineData("sweep run", "sweep run <SPEC> [options]", "--journal <DIR>")]
    [InlineData("sweep validate", "sweep validate <SPEC> [options]", "--deep")]
    [InlineData("sweep explain", "sweep explain <SWEEP> [<TRIAL>] [options]", "")]
    [InlineData("train", "train <SPEC> [options]", "--resume")]
    [InlineData("ablation", "ablation <SPEC> [options]", "--seeds <N>")]
    [InlineData("demo", " demo [options]", "--trials <N>")]
    [InlineData("data synth", "data synth <DIR> [options]", "--noise <P>")]
    [InlineData("loss check", "loss check [options]", "--vectors <FILE>")]
    [InlineData("scheduler replay", "scheduler replay <TRACE> [options]", "--check")]
    [InlineData("silo", " silo [command] [options]", "")]
    [InlineData("silo drain", "silo drain <ADDRESS> [options]", "--config <KEY=VALUE>")]
    public async Task Every_command_has_help_and_help_does_nothing_else(string command, string usage, string option)
    {
        var cwd = Directory.GetCurrentDirectory();
        var before = Directory.GetFileSystemEntries(cwd).Length;
        var (code, output, err) = await Run([.. command.Split(' '), "--help"]);
        Assert.True(code == 0, err);
        Assert.Contains(usage, output);
        Assert.Contains(option, output);
        Assert.Equal(before, Directory.GetFileSystemEntries(cwd).Length);   // e.g. data synth --help writes no folder named --help
        Assert.False(Directory.Exists(Path.Combine(cwd, "--help")));
    }

    [Theory]
    [InlineData("sweep run", "Required argument 'SPEC' missing", "aunce sweep run --help")]
    [InlineData("train", "Required argument 'SPEC' missing", "aunce train --help")]
    [InlineData("loss check", "Option '--vectors' is required", "aunce loss check --help")]
    [InlineData("data synth /tmp/x --size 8", "--size must be an integer >= 32", "aunce data synth --help")]
    [InlineData("train spec.yaml --set lr", "--set 'lr' must be KEY=VALUE, e.g. --set lr=0.0003", "aunce train --help")]
    [InlineData("sweep run spec.yaml --bogus", "Unrecognized command or argument '--bogus'", "aunce sweep run --help")]
    [InlineData("sweep run spec.yaml --on-interrupt later", "Argument 'later' not recognized. Must be one of:", "aunce sweep run --help")]
    public async Task A_missing_or_bad_argument_is_named_with_the_help_to_read(string command, string message, string help)
    {
        var (code, output, err) = await Run(command.Split(' '));
        Assert.Equal(2, code);
        Assert.Contains($"error: {message}", err);
        Assert.Contains($"run '{help}' for usage", err);
        Assert.Empty(output);
    }
}

/// <summary>Sweep ids: unique by default, chosen with --id, never reused.</summary>
public sealed class SweepIdTests
{
    [Fact]
    public void Default_ids_of_one_name_in_one_second_differ_and_each_claims_its_journal()
    {
        var root = CliHarness.TempDirectory();
        var now = new DateTime(2026, 11, 29, 12, 0, 0, DateTimeKind.Utc);
        var ids = Enumerable.Range(0, 20).Select(_ => SweepJournal.CreateUnique(root, "demo", now, "name: demo\n").Id).ToList();
        Assert.Equal(20, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches("^demo-20261129-120000-[0-9a-f]{6}$", id));
        Assert.Equal(20, Directory.GetDirectories(root).Length);
    }

    [Fact]
    public async Task An_explicit_id_that_exists_is_refused_and_its_journal_kept()
    {
        var journal = CliHarness.TempDirectory();
        var taken = Path.Combine(journal, "mine");
        Directory.CreateDirectory(taken);
        await File.WriteAllTextAsync(Path.Combine(taken, "spec.yaml"), "name: earlier\n");
        var spec = Path.Combine(CliHarness.TempDirectory(), "spec.yaml");
        await File.WriteAllTextAsync(spec, $"name: x\ndataset: {{root: {CliHarness.SyntheticDataset()}, folds: [1]}}\ntraining: {{epochs: 1, device: cpu}}\nsearch: {{trials: 1}}\n");
        var (code, output, err) = await CliHarness.Run("sweep", "run", spec, "--id", "mine", "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains($"error: sweep id 'mine' is taken: {taken} holds another sweep's journal", err);
        Assert.DoesNotContain("sweep mine:", output);   // no sweep started
        Assert.Equal("name: earlier\n", await File.ReadAllTextAsync(Path.Combine(taken, "spec.yaml")));
        Assert.Single(Directory.GetFiles(taken));

        (code, _, err) = await CliHarness.Run("sweep", "run", spec, "--id", "../escape", "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains("sweep id '../escape' must be 1-100 letters, digits", err);
    }
}
