using AunceSearch.Search.Pruners;

namespace AunceSearch.Search.Tests;

public class PrunerTraceTests
{
    public static string TraceDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared"), Path.Combine(dir.FullName, "..", "shared") })
                {
                    var traces = Path.Combine(candidate, "aunce", "pruner-traces");
                    if (Directory.Exists(traces))
                    {
                        return Path.GetFullPath(traces);
                    }
                }
            }

            throw new DirectoryNotFoundException("shared/aunce/pruner-traces not found beside the repository");
        }
    }

    public static TheoryData<string> Traces()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.EnumerateFiles(TraceDirectory, "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(f));
        }

        return data;
    }

    [Fact]
    public void Every_pruner_kind_has_public_traces()
    {
        var names = Directory.EnumerateFiles(TraceDirectory, "*.json").Select(Path.GetFileName).ToList();
        foreach (var kind in new[] { "successive_halving", "hyperband", "median", "percentile" })
        {
            Assert.Contains(names, n => n!.StartsWith(kind + "-", StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Traces))]
    public void Every_public_Optuna_trace_replays_with_full_agreement(string file)
    {
        var trace = PrunerTrace.Load(Path.Combine(TraceDirectory, file));
        var expected = trace.Events.Where(e => !e.Complete).ToList();
        var decisions = trace.Replay();
        Assert.Equal(expected.Count, decisions.Count);
        var mismatches = expected.Zip(decisions)
            .Where(p => p.First.Decision != (p.Second.Kind == DecisionKind.Stop ? "prune" : "continue"))
            .Select(p => $"trial {p.First.Trial} step {p.First.Step}: Optuna {p.First.Decision}, ours {p.Second.Kind} ({p.Second.Reason})")
            .ToList();
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {expected.Count} decisions differ:\n" + string.Join("\n", mismatches.Take(10)));
        Assert.Contains(decisions, d => d.Kind == DecisionKind.Stop);
    }

    [Theory]
    [MemberData(nameof(Traces))]
    public void State_restored_at_every_event_gives_identical_later_decisions(string file)
    {
        var trace = PrunerTrace.Load(Path.Combine(TraceDirectory, file));
        var all = trace.Replay();
        var reportsBefore = 0;
        var state = new StudyState();
        var pruner = trace.CreatePruner();
        for (var cut = 0; cut < trace.Events.Count; cut++)
        {
            var restored = StudyStateJson.Deserialize(StudyStateJson.Serialize(state));
            var rest = trace.Replay(restored, cut, trace.CreatePruner());
            Assert.Equal(all.Skip(reportsBefore), rest);

            var e = trace.Events[cut];
            if (e.Complete)
            {
                state.Complete(e.Trial);
            }
            else
            {
                pruner.ReportAndApply(state, e.Trial, e.Step!.Value, e.Value);
                reportsBefore++;
            }
        }
    }

    [Fact]
    public void Crc32_and_hyperband_brackets_match_Optuna()
    {
        Assert.Equal(2966233855u, Crc32.Compute("aunce-hb-public-1_0"u8));
        Assert.Equal(700740421u, Crc32.Compute("aunce-hb-public-1_3"u8));
        var hb = new HyperbandPruner(1, 27, 3, 0, "aunce-hb-public-1", Direction.Minimize);
        Assert.Equal([27, 12, 6, 4], hb.Budgets);
        Assert.Equal(2, hb.BracketOf(0));
        Assert.Equal(3, hb.BracketOf(3));
        Assert.Equal(5, new HyperbandPruner(1, 243, 3, 0, "s", Direction.Minimize).BracketCount); // log gives 4.999…
    }

    [Fact]
    public void Reasons_explain_the_decision_with_cutoff_and_rank()
    {
        var sh = new SuccessiveHalvingPruner(1, 2, 0, 0, Direction.Maximize);
        var state = new StudyState();
        sh.ReportAndApply(state, 0, 1, 0.6);
        var d = sh.ReportAndApply(state, 1, 1, 0.5);
        Assert.Equal(DecisionKind.Stop, d.Kind);
        Assert.Equal("pruned at rung 0 (step 1): 0.5 < cutoff 0.6 (rank 2 of 2, keeps top 1)", d.Reason);
        Assert.Equal(TrialPhase.Pruned, state.Trials[1].Phase);
    }

    [Theory]
    [InlineData("{\"format\": \"other\"}", "is not aunce-pruner-trace/1")]
    [InlineData("{\"format\": \"aunce-pruner-trace/1\", \"direction\": \"up\"}", "direction 'up'")]
    [InlineData("not json", "malformed JSON")]
    public void Bad_traces_are_rejected_with_the_file_name(string json, string expected)
    {
        var file = Path.Combine(Path.GetTempPath(), $"trace-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json);
        var e = Assert.Throws<FormatException>(() => PrunerTrace.Load(file));
        Assert.Contains(file, e.Message);
        Assert.Contains(expected, e.Message);
    }
}

/// <summary>
/// Traces freshly generated by Optuna 3.1 itself (tests/tools/optuna_traces.py: random pruner parameters, directions,
/// interleavings, skipped steps and NaNs). ./test.sh generates them and sets AUNCE_TEST_OPTUNA_TRACES.
/// </summary>
public class OptunaPeerTests
{
    public const string Variable = "AUNCE_TEST_OPTUNA_TRACES";

    [Fact]
    public void Every_trace_generated_by_Optuna_replays_with_full_agreement()
    {
        var dir = Environment.GetEnvironmentVariable(Variable);
        Assert.False(string.IsNullOrWhiteSpace(dir), $"{Variable} is not set: run the tests with ./test.sh, which generates traces with Optuna");
        var files = Directory.GetFiles(dir!, "*.json");
        Assert.True(files.Length >= 40, $"expected at least 40 generated traces in {dir}, found {files.Length}");
        var reports = 0;
        var prunes = 0;
        foreach (var file in files)
        {
            var trace = Pruners.PrunerTrace.Load(file);
            var decisions = trace.Replay();
            var expected = trace.Events.Where(e => !e.Complete).ToList();
            for (var i = 0; i < decisions.Count; i++)
            {
                var ours = decisions[i].Kind == DecisionKind.Stop ? "prune" : "continue";
                Assert.True(expected[i].Decision == ours,
                    $"{Path.GetFileName(file)}: trial {expected[i].Trial} step {expected[i].Step}: Optuna {expected[i].Decision}, AunceSearch {ours} ({decisions[i].Reason})");
            }

            reports += decisions.Count;
            prunes += decisions.Count(d => d.Kind == DecisionKind.Stop);
        }

        Assert.True(prunes > 100, $"only {prunes} prune decisions in {reports} reports: the generated traces test too little");
    }
}
