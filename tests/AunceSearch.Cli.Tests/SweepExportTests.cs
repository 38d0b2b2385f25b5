using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using AunceSearch.Api;
using AunceSearch.Contracts;
using AunceSearch.Coordination;
using AunceSearch.Hosting;
using AunceSearch.Spec;
using Parquet;
using Parquet.Schema;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// <c>aunce sweep export</c> from a sweep's record: pandas (Debian's python3-pandas) reads the CSV and the JSON lines
/// with the values the record holds; the Parquet file is read back column by column (Debian 12 ships no Parquet engine
/// for pandas — no pyarrow, no fastparquet — so <c>pd.read_parquet</c> cannot run here).
/// </summary>
public sealed class SweepExportTests
{
    /// <summary>
    /// A journal and record for sweep <c>ex</c>: three trials, one completed, one pruned, one failed; besides the searched
    /// lr each carries a text value with a comma in one (as a categorical's choice may).
    /// </summary>
    private static (string Journal, string Work) Sweep()
    {
        var work = CliHarness.TempDirectory();
        var journalRoot = Path.Combine(work, "sweeps");
        var stateDir = Path.Combine(work, "state");
        const string Yaml = "name: ex\ndataset: {root: data, folds: [1, 2]}\ntraining: {epochs: 3}\nsearch: {trials: 3, space: {lr: {log_uniform: [1.0e-4, 1.0e-2]}}}\n";
        var journal = SweepJournal.Create(journalRoot, "ex", Yaml);
        journal.WriteSettings(new Dictionary<string, string?> { ["Aunce:Silo:GrainStorage"] = "file", ["Aunce:Silo:StatePath"] = stateDir });
        static FoldEpochReport Fold(int trial, int fold, int epoch, double f1) => new(trial, fold, epoch, f1, 0.7, 0.1, [f1], 1.0, "k", "l", "test");
        var definition = SweepSpecLoader.Parse(Yaml, "ex.yaml", work);
        var state = new CoordinatorState { Definition = definition, State = SweepState.Completed, NextTrial = 3, Inputs = 1, Sequence = 1 };
        state.Trials[0] = new TrialSummary
        {
            Trial = 0, State = TrialState.Completed, Hyperparameters = new() { ["lr"] = "0.001", ["optimizer"] = "adam" }, LastEpoch = 3, TargetEpoch = 3,
            LastValue = 0.6, LastMeanF1 = 0.6, LastMeanAccuracy = 0.7, History = [0.4, 0.5, 0.6], LastFolds = [Fold(0, 1, 3, 0.55), Fold(0, 2, 3, 0.65)],
        };
        state.Trials[1] = new TrialSummary
        {
            Trial = 1, State = TrialState.Pruned, Hyperparameters = new() { ["lr"] = "0.0002", ["optimizer"] = "sgd, nesterov" }, LastEpoch = 1, TargetEpoch = 1,
            LastValue = 0.3, LastMeanF1 = 0.3, LastMeanAccuracy = 0.6, History = [0.3], LastFolds = [Fold(1, 1, 1, 0.25), Fold(1, 2, 1, 0.35)],
        };
        state.Trials[2] = new TrialSummary
        {
            Trial = 2, State = TrialState.Failed, Hyperparameters = new() { ["lr"] = "0.005", ["optimizer"] = "adam" }, Error = "CUDA out of memory, \"fold 1\"",
        };
        state.Decisions.Add(new DecisionRecord(1, 1, "stop", 0.3, 0, null, 2, 2, "stopped at rung 0 (step 1): 0.3000, rank 2 of 2, not in the top 1 (⌊2/2⌋)"));
        state.Decisions.Add(new DecisionRecord(0, 1, "pause", 0.4, 0, null, 1, 1, "paused at rung 0"));
        state.Decisions.Add(new DecisionRecord(0, 3, "complete", 0.6, 2, null, 1, 1, "completed at the top rung 2 (step 3): 0.6000, rank 1 of 1"));
        SweepRecord.WriteSnapshotAsync(stateDir, "ex", CoordinatorSnapshot.Encode(state), 1).GetAwaiter().GetResult();
        return (journalRoot, work);
    }

    private static async Task<JsonNode> Pandas(string script, string path)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("import sys, json\nimport pandas as pd\npath = sys.argv[1]\n" + script);
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"pandas failed (exit {p.ExitCode}; ./test.sh installs python3-pandas):\n{await stderr}");
        return JsonNode.Parse(await stdout)!;
    }

    private const string Summary = """
        rows = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in df.to_dict(orient="records")]
        print(json.dumps({"columns": list(df.columns), "dtypes": {c: str(t) for c, t in df.dtypes.items()}, "rows": rows}, default=str))
        """;

    [Theory]
    [InlineData("csv", "df = pd.read_csv(path)\n")]
    [InlineData("jsonl", "df = pd.read_json(path, lines=True)\n")]
    public async Task Pandas_reads_one_row_per_trial_with_typed_params_folds_state_and_the_last_decision(string format, string read)
    {
        var (journal, work) = Sweep();
        var output = Path.Combine(work, $"trials.{format}");
        var (code, stdout, stderr) = await CliHarness.Run("sweep", "export", "ex", "-o", output, "--journal", journal);
        Assert.True(code == 0, stderr);
        Assert.Contains("wrote 3 row(s)", stdout);
        var table = await Pandas(read + Summary, output);
        string[] expected =
        [
            "sweep_id", "trial", "state", "last_epoch", "target_epoch", "value", "mean_f1", "mean_accuracy", "params_lr", "params_optimizer",
            "fold_0_value", "fold_1_value", "decision", "decision_epoch", "decision_reason", "error",
        ];
        Assert.Equal(expected, table["columns"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal("float64", table["dtypes"]!["params_lr"]!.GetValue<string>());
        Assert.Equal("object", table["dtypes"]!["params_optimizer"]!.GetValue<string>());
        var rows = table["rows"]!.AsArray();
        Assert.Equal(3, rows.Count);
        Assert.Equal("completed", rows[0]!["state"]!.GetValue<string>());
        Assert.Equal(0.6, rows[0]!["value"]!.GetValue<double>(), 12);
        Assert.Equal(0.001, rows[0]!["params_lr"]!.GetValue<double>(), 15);
        Assert.Equal(0.65, rows[0]!["fold_1_value"]!.GetValue<double>(), 12);
        Assert.Equal("complete", rows[0]!["decision"]!.GetValue<string>());
        Assert.Equal("sgd, nesterov", rows[1]!["params_optimizer"]!.GetValue<string>());   // a comma inside a value survives CSV
        Assert.Contains("not in the top 1 (⌊2/2⌋)", rows[1]!["decision_reason"]!.GetValue<string>());
        Assert.Equal("CUDA out of memory, \"fold 1\"", rows[2]!["error"]!.GetValue<string>());
        Assert.Null(rows[2]!["value"]);
        Assert.Null(rows[2]!["decision"]);
    }

    [Fact]
    public async Task Curves_give_one_row_per_trial_and_epoch()
    {
        var (journal, work) = Sweep();
        var output = Path.Combine(work, "curves.csv");
        var (code, _, stderr) = await CliHarness.Run("sweep", "export", "ex", "--curves", "-o", output, "--journal", journal);
        Assert.True(code == 0, stderr);
        var table = await Pandas("df = pd.read_csv(path)\n" + Summary, output);
        var rows = table["rows"]!.AsArray();
        Assert.Equal([(0, 1, 0.4), (0, 2, 0.5), (0, 3, 0.6), (1, 1, 0.3)],
            rows.Select(r => (r!["trial"]!.GetValue<int>(), r["epoch"]!.GetValue<int>(), Math.Round(r["value"]!.GetValue<double>(), 12))));
    }

    [Fact]
    public async Task Parquet_holds_typed_nullable_columns_with_the_records_values()
    {
        var (journal, work) = Sweep();
        var output = Path.Combine(work, "trials.parquet");
        var (code, _, stderr) = await CliHarness.Run("sweep", "export", "ex", "-o", output, "--journal", journal);
        Assert.True(code == 0, stderr);
        await using var file = File.OpenRead(output);
        await using var reader = await ParquetReader.CreateAsync(file);
        var fields = reader.Schema.DataFields;
        DataField Field(string name) => fields.Single(f => f.Name == name);
        Assert.Equal(typeof(double), Field("params_lr").ClrType);
        Assert.Equal(typeof(ReadOnlyMemory<char>), Field("params_optimizer").ClrType);   // Parquet.Net 6's text type: a UTF-8 string column
        using var group = reader.OpenRowGroupReader(0);
        Assert.Equal(3, group.RowCount);
        var trial = new int?[3];
        var lr = new double?[3];
        var value = new double?[3];
        var state = new string[3];
        await group.ReadAsync<int>(Field("trial"), trial);
        await group.ReadAsync<double>(Field("params_lr"), lr);
        await group.ReadAsync<double>(Field("value"), value);
        await group.ReadAsync(Field("state"), state);
        Assert.Equal([0, 1, 2], trial);
        Assert.Equal([0.001, 0.0002, 0.005], lr);
        Assert.Equal([0.6, 0.3, null], value);
        Assert.Equal(["completed", "pruned", "failed"], state);
    }

    [Theory]
    [InlineData("trials.xlsx", null, "has no .csv, .jsonl or .parquet extension")]
    [InlineData("trials.csv", "xml", "'xml'")]
    [InlineData("missing/trials.csv", null, "does not exist")]
    [InlineData("afile/x.csv", null, "is a file, not a directory")]
    public async Task A_bad_output_or_format_is_refused_and_nothing_is_written(string name, string? format, string expected)
    {
        var (journal, work) = Sweep();
        File.WriteAllText(Path.Combine(work, "afile"), "");   // a file where one case puts a directory
        var output = Path.Combine(work, name);
        string[] args = ["sweep", "export", "ex", "-o", output, "--journal", journal, .. format is null ? Array.Empty<string>() : ["--format", format]];
        var (code, _, stderr) = await CliHarness.Run(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.EnumerateFiles(work, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task An_unknown_sweep_is_refused_by_name()
    {
        var (journal, work) = Sweep();
        var (code, _, stderr) = await CliHarness.Run("sweep", "export", "nosuch", "-o", Path.Combine(work, "x.csv"), "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains("nosuch", stderr);
    }

    [Fact]
    public async Task A_hundred_thousand_trials_export_in_each_format_within_seconds()
    {
        var trials = Enumerable.Range(0, 100_000).Select(t => new ExportTrial(t, TrialState.Completed, 8, 8, t / 1e5, t / 1e5, 0.7,
            new Dictionary<string, string> { ["lr"] = (1e-4 + (t * 1e-9)).ToString("R", CultureInfo.InvariantCulture), ["temperature"] = "0.1", ["optimizer"] = "adam" },
            [0.5, 0.6, 0.7], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], new DecisionRecord(t, 8, "complete", 0.8, 3, null, 1, 1, "completed"), null)).ToList();
        var work = CliHarness.TempDirectory();
        foreach (var format in new[] { TableFormat.Csv, TableFormat.Jsonl, TableFormat.Parquet })
        {
            var path = Path.Combine(work, $"big.{SweepExport.Extension(format)}");
            var clock = Stopwatch.StartNew();
            await using (var file = File.Create(path))
            {
                Assert.Equal(100_000, await SweepExport.WriteAsync(file, format, false, "big", trials, ["lr", "temperature", "optimizer"]));
            }

            // Seconds, not minutes (Optuna #763: trials_dataframe took 13 minutes for a few thousand); the bound is loose for loaded runners.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{format}: {clock.Elapsed.TotalSeconds:0.0} s for 100,000 trials");
            Console.WriteLine($"export of 100,000 trials as {format}: {clock.Elapsed.TotalSeconds:0.00} s, {new FileInfo(path).Length / 1e6:0.0} MB");
        }

        var count = await Pandas("df = pd.read_csv(path)\nprint(json.dumps({'rows': len(df), 'last': int(df['trial'].iloc[-1])}))", Path.Combine(work, "big.csv"));
        Assert.Equal(100_000, count["rows"]!.GetValue<int>());
        Assert.Equal(99_999, count["last"]!.GetValue<int>());
    }

    [Fact]
    public async Task Importance_is_computed_from_the_record_and_says_when_there_is_no_answer()
    {
        var (journal, _) = Sweep();
        var (code, stdout, stderr) = await CliHarness.Run("sweep", "importance", "ex", "--journal", journal);
        Assert.True(code == 0, stderr);
        Assert.Contains("PED-ANOVA", stdout);
        Assert.Contains("no answer: 1 trial(s) with a value (completed)", stdout);

        (code, stdout, stderr) = await CliHarness.Run("sweep", "importance", "ex", "--epoch", "1", "--quantile", "1", "--journal", journal);
        Assert.True(code == 0, stderr);
        Assert.Contains("over 2 trials' values at epoch 1", stdout);
        Assert.Matches(@"lr\s+1\.000", stdout);

        (code, _, stderr) = await CliHarness.Run("sweep", "importance", "ex", "--epoch", "999", "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains("--epoch: 999 is not an epoch of sweep 'ex'", stderr);
        (code, _, stderr) = await CliHarness.Run("sweep", "importance", "ex", "--quantile", "0", "--journal", journal);
        Assert.Equal(2, code);
        Assert.Contains("--quantile: 0 is not in (0, 1]", stderr);
    }
}
