using AunceSearch.Bench;

// aunce-bench search-quality TABLE.csv OUTDIR [--seeds N] [--budget EPOCHS]
// aunce-bench report OUTDIR
// aunce-bench overhead
// aunce-bench lcbench-check DATA_DIR
switch (args)
{
    case ["search-quality", var table, var outDir, .. var rest]:
    {
        var seeds = Option(rest, "--seeds", 20);
        var budget = Option(rest, "--budget", 240);
        Directory.CreateDirectory(outDir);
        var t = CurveTable.Load(table);
        Console.WriteLine($"table: {t.Curves.Count} configurations ({t.Imputed} imputed from grid neighbours) x {t.Epochs} epochs, optimum F1 {t.Optimum:0.0000}, worst {t.Worst:0.0000}");
        SearchQuality.Save(SearchQuality.RunTable(t, seeds, budget), Path.Combine(outDir, "aunce-table.json"));
        var surrogate = Surrogate.Fit(t);
        surrogate.Save(Path.Combine(outDir, "surrogate.json"));
        SearchQuality.Save(SearchQuality.RunSurrogate(surrogate, t.Epochs, seeds, budget), Path.Combine(outDir, "aunce-surrogate.json"));
        Console.WriteLine($"wrote {outDir}/aunce-table.json, aunce-surrogate.json, surrogate.json");
        return 0;
    }

    case ["report", var outDir]:
        foreach (var bench in new[] { "table", "surrogate" })
        {
            var ours = SearchQuality.Load(Path.Combine(outDir, $"aunce-{bench}.json"));
            var optunaFile = Path.Combine(outDir, $"optuna-{bench}.json");
            SearchQuality.Report(Console.Out, ours, File.Exists(optunaFile) ? SearchQuality.Load(optunaFile) : null);
            Console.WriteLine();
        }

        return 0;

    case ["lcbench-check", var dataDir]:
    {
        using var lcbench = new LcBench(dataDir);
        foreach (var line in lcbench.Check())
        {
            Console.WriteLine(line);
        }

        return 0;
    }

    case ["overhead"]:
        Overhead.Run(Console.Out);
        return 0;

    default:
        Console.Error.WriteLine("usage: aunce-bench search-quality TABLE.csv OUTDIR [--seeds N] [--budget EPOCHS] | report OUTDIR | overhead | lcbench-check DATA_DIR");
        return 2;
}

static int Option(string[] args, string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) && v > 0 ? v : fallback;
}
