using System.Globalization;
using System.Text.Json;
using AunceSearch.Contracts;
using AunceSearch.Spec;
using SkiaSharp;
using YamlDotNet.RepresentationModel;

namespace AunceSearch.Cli;

/// <summary>One configuration of the AUNCE paper's ablation, as training-value overrides of the user's spec.</summary>
public sealed record AblationVariant(string Key, string Label, IReadOnlyDictionary<string, string> Training);

/// <summary>A row of an ablation table: the variant, its per-seed fold-mean F1 values, their mean and 95 % confidence interval.</summary>
public sealed record AblationRow(string Table, AblationVariant Variant, double[] Values, double Mean, double HalfWidth, double AllActiveF1, string? Paper);

/// <summary>
/// <c>aunce ablation SPEC</c>: the AUNCE paper's three ablation tables on the user's own dataset, model and budget, through
/// the sweep engine. Each distinct configuration is one sweep whose trials are the seeds (trial k of every variant gets the
/// same seed, so comparisons are paired); each trial cross-validates on the spec's folds; the value of a trial is its
/// fold-mean F1 at the last epoch. Tables (paper numbers beside, BP4D F1):
/// VI — AUNCE against the WCE-trained network on the same encoder; VII — BL (highest-similarity positives only, no
/// re-weighting), + w_i, + PS (positive sampling 0.15/0.15/0.7), + NS (negative re-weighting λ 1.2/0.4), all together;
/// VIII — single positive types against the mixture. Positives follow the paper's definitions (<c>positives: paper</c>:
/// the highest-similarity positive excludes the anchor and its twin). Writes tables.txt, results.json and ablation.png.
/// </summary>
public static class AblationCommand
{
    private static readonly Dictionary<string, string> All = new()
    {
        ["positives"] = "paper", ["p_max"] = "0.15", ["p_aug"] = "0.15", ["p_mix"] = "0.7", ["p_min"] = "0",
        ["lambda_min"] = "1.2", ["lambda_maj"] = "0.4", ["au_weight"] = "on", ["objective"] = "aunce",
    };

    /// <summary>The distinct configurations the three tables need (9; shared rows are trained once).</summary>
    public static IReadOnlyList<AblationVariant> Variants { get; } = BuildVariants();

    /// <summary>Table rows: (table, variant key, paper's BP4D F1).</summary>
    public static IReadOnlyList<(string Table, string Key, string Paper)> Tables { get; } =
    [
        ("VI", "wce", "63.6 (MEGraph)"), ("VI", "all", "66.1"),
        ("VII", "bl", "60.1"), ("VII", "bl+w", "61.0"), ("VII", "bl+ps", "63.8"), ("VII", "bl+ns", "64.1"), ("VII", "all", "66.1"),
        ("VIII", "p1000", "60.1"), ("VIII", "p0100", "48.4"), ("VIII", "p0010", "63.2"), ("VIII", "all", "66.1"),
    ];

    public static async Task<int> RunAsync(string specPath, int seeds, IReadOnlyList<string> tableNames, string? outDir, RunOptions options,
        TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var tables = new HashSet<string>(tableNames, StringComparer.OrdinalIgnoreCase);
        if (!File.Exists(specPath))
        {
            throw new SpecException($"{specPath}: spec file not found");
        }

        var full = Path.GetFullPath(specPath);
        var yaml = await File.ReadAllTextAsync(full, cancellationToken);
        var spec = SweepSpecLoader.Parse(yaml, specPath, Path.GetDirectoryName(full)!);   // file:line errors before any training
        outDir ??= Path.Combine(Directory.GetCurrentDirectory(), ".aunce", "ablation", $"{spec.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        Directory.CreateDirectory(outDir);
        var rows = Tables.Where(t => tables.Contains(t.Table)).ToList();
        var needed = Variants.Where(v => rows.Any(r => r.Key == v.Key)).ToList();
        await stdout.WriteLineAsync($"ablation of {specPath}: {needed.Count} configurations x {seeds} seeds x {spec.Folds.Length} folds x {spec.Training.Epochs} epochs; results in {outDir}");

        var results = new Dictionary<string, (double[] Values, double AllActive)>(StringComparer.Ordinal);
        foreach (var variant in needed)
        {
            var variantYaml = VariantYaml(yaml, spec, variant, seeds);
            var log = new StringWriter();
            var runner = new SweepRunner(log, log, options);
            var code = await runner.RunAsync(variantYaml, specPath, Path.GetDirectoryName(full)!, cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(outDir, $"{variant.Key}.log"), log.ToString(), cancellationToken);
            var status = runner.FinalStatus;
            var finished = status?.Trials.Where(t => t.State == TrialState.Completed && t.LastMeanF1 is not null).ToList() ?? [];
            if (code != ExitCodes.Ok || finished.Count < 2)
            {
                await stderr.WriteLineAsync($"error: ablation configuration '{variant.Label}' failed (exit {code}; {finished.Count} of {seeds} seeds finished): see {Path.Combine(outDir, variant.Key + ".log")}");
                return ExitCodes.Failed;
            }

            var values = finished.OrderBy(t => t.Trial).Select(t => t.LastMeanF1!.Value).ToArray();
            var allActive = finished.SelectMany(t => t.LastFolds).Where(f => f.AllActiveF1PerAu.Length > 0).Select(f => f.AllActiveF1PerAu.Average()).DefaultIfEmpty(double.NaN).Average();
            results[variant.Key] = (values, allActive);
            var (mean, half) = MeanAndInterval(values);
            await stdout.WriteLineAsync(FormattableString.Invariant($"  {variant.Label,-34} F1 {100 * mean:0.0} ± {100 * half:0.0} (95 % CI over {values.Length} seeds)"));
        }

        var table = rows.Select(r =>
        {
            var v = Variants.Single(x => x.Key == r.Key);
            var (values, allActive) = results[r.Key];
            var (mean, half) = MeanAndInterval(values);
            return new AblationRow(r.Table, v, values, mean, half, allActive, r.Paper);
        }).ToList();
        var text = Render(table, spec, seeds);
        await stdout.WriteAsync(text);
        await File.WriteAllTextAsync(Path.Combine(outDir, "tables.txt"), text, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(outDir, "results.json"), JsonSerializer.Serialize(table.Select(r => new
        {
            table = r.Table, key = r.Variant.Key, label = r.Variant.Label, training = r.Variant.Training, f1_per_seed = r.Values,
            mean = r.Mean, ci95_half_width = r.HalfWidth, all_active_f1 = r.AllActiveF1, paper_bp4d = r.Paper,
        }), new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        Plot(table, Path.Combine(outDir, "ablation.png"));
        await stdout.WriteLineAsync($"wrote {Path.Combine(outDir, "tables.txt")}, results.json and ablation.png");
        return ExitCodes.Ok;
    }

    /// <summary>Mean and the half-width of its two-sided 95 % confidence interval (Student's t, n − 1 degrees of freedom).</summary>
    public static (double Mean, double HalfWidth) MeanAndInterval(IReadOnlyList<double> values)
    {
        var n = values.Count;
        var mean = values.Average();
        if (n < 2)
        {
            return (mean, double.NaN);
        }

        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        return (mean, StudentT975(n - 1) * sd / Math.Sqrt(n));
    }

    /// <summary>The 0.975 quantile of Student's t distribution (tabulated values; the normal 1.960 beyond 30 degrees of freedom).</summary>
    public static double StudentT975(int df) => df switch
    {
        < 1 => throw new ArgumentOutOfRangeException(nameof(df)),
        <= 30 => new[] { 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042 }[df - 1],
        <= 60 => 2.000,
        <= 120 => 1.980,
        _ => 1.960,
    };

    /// <summary>The user's spec with the variant's training values, <paramref name="seeds"/> trials of one fixed configuration, no pruning.</summary>
    public static string VariantYaml(string yaml, SweepDefinition spec, AblationVariant variant, int seeds)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        root.Children[new YamlScalarNode("name")] = new YamlScalarNode($"{spec.Name}-ablation-{variant.Key.Replace('+', '-')}");
        if (!root.Children.TryGetValue(new YamlScalarNode("training"), out var t) || t is not YamlMappingNode training)
        {
            training = new YamlMappingNode();
            root.Children[new YamlScalarNode("training")] = training;
        }

        foreach (var (key, value) in variant.Training)
        {
            training.Children[new YamlScalarNode(key)] = new YamlScalarNode(value);
        }

        var lr = spec.Training.Hyperparameters.TryGetValue("lr", out var l) ? l : "0.001";
        var search = new YamlStream();
        search.Load(new StringReader(FormattableString.Invariant(
            $"trials: {seeds}\nmax_concurrent_trials: 1\nsampler: random\nscheduler: {{kind: none}}\nspace: {{lr: {{fixed: {lr}}}}}\n")));
        root.Children[new YamlScalarNode("search")] = search.Documents[0].RootNode;
        var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        return writer.ToString().Replace("\n...", "", StringComparison.Ordinal);
    }

    private static string Render(IReadOnlyList<AblationRow> rows, SweepDefinition spec, int seeds)
    {
        var w = new StringWriter();
        w.WriteLine();
        // The dataset as the user named it from here (results files are committed; an absolute path is one machine's).
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), spec.Dataset.Root);
        var dataset = relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? spec.Dataset.Root : relative;
        w.WriteLine(FormattableString.Invariant($"AUNCE ablation on {dataset}: mean fold-mean F1 ×100 ± 95 % CI half-width over {seeds} seeds ({spec.Folds.Length} subject-exclusive folds, {spec.Training.Epochs} epochs, encoder {spec.Model.Encoder})"));
        foreach (var group in rows.GroupBy(r => r.Table))
        {
            var title = group.Key switch
            {
                "VI" => "Table VI: AUNCE against the WCE-trained network (same encoder)",
                "VII" => "Table VII: components (BL = highest-similarity positives only, no re-weighting)",
                _ => "Table VIII: positive types (p_max, p_aug, p_mix, p_min), with w_i and NS",
            };
            w.WriteLine();
            w.WriteLine(title);
            w.WriteLine($"  {"configuration",-34} {"F1",14} {"paper (BP4D)",15}   per seed");
            foreach (var r in group)
            {
                w.WriteLine(FormattableString.Invariant(
                    $"  {r.Variant.Label,-34} {100 * r.Mean,6:0.0} ± {100 * r.HalfWidth,4:0.0} {r.Paper,15}   {string.Join(" ", r.Values.Select(v => (100 * v).ToString("0.0", CultureInfo.InvariantCulture)))}"));
            }
        }

        var baseline = rows.Select(r => r.AllActiveF1).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
        w.WriteLine();
        w.WriteLine(FormattableString.Invariant($"trivial baseline of the same test splits: all-active F1 {100 * baseline:0.0}"));
        var best = rows.MaxBy(r => r.Mean)!;
        w.WriteLine(best.Mean > baseline
            ? FormattableString.Invariant($"best configuration {best.Variant.Label}: {100 * (best.Mean - baseline):+0.0;-0.0} points over the all-active baseline")
            : FormattableString.Invariant($"warning: no configuration beats the all-active baseline ({100 * best.Mean:0.0} <= {100 * baseline:0.0}): these models have not learned, the comparison says nothing"));
        return w.ToString();
    }

    /// <summary>Bars (mean F1) with 95 % CI whiskers per table, and the all-active baseline as a dashed line.</summary>
    private static void Plot(IReadOnlyList<AblationRow> rows, string path)
    {
        const int panelW = 420, height = 420, top = 50, bottom = 130, left = 50;
        var groups = rows.GroupBy(r => r.Table).ToList();
        var width = (panelW * groups.Count) + 20;
        var max = Math.Min(1, Math.Ceiling(rows.Max(r => r.Mean + (double.IsFinite(r.HalfWidth) ? r.HalfWidth : 0)) * 10 + 0.5) / 10);
        var min = Math.Max(0, Math.Floor(rows.Min(r => r.Mean - (double.IsFinite(r.HalfWidth) ? r.HalfWidth : 0)) * 10 - 0.5) / 10);
        var baseline = rows.Select(r => r.AllActiveF1).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
        min = double.IsFinite(baseline) ? Math.Min(min, Math.Floor(baseline * 10) / 10) : min;
        using var bitmap = new SKBitmap(width, height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var typeface = SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true, StrokeWidth = 1.5f };
        using var label = new SKPaint { Color = SKColors.Black, IsAntialias = true, Typeface = typeface };
        void Text(string text, float x, float y, SKTextAlign align, float size)
        {
            label.TextAlign = align;
            label.TextSize = size;
            canvas.DrawText(text, x, y, label);
        }

        using var bar = new SKPaint { Color = new SKColor(70, 120, 180), IsAntialias = true };
        using var dash = new SKPaint { Color = new SKColor(200, 60, 60), StrokeWidth = 1.5f, PathEffect = SKPathEffect.CreateDash([6, 4], 0) };
        for (var g = 0; g < groups.Count; g++)
        {
            var x0 = 10 + (g * panelW) + left;
            var plotW = panelW - left - 20;
            var plotH = height - top - bottom;
            float Y(double v) => (float)(top + (plotH * (1 - ((v - min) / (max - min)))));
            Text($"Table {groups[g].Key}", x0, 28, SKTextAlign.Left, 13);
            canvas.DrawLine(x0, top, x0, top + plotH, ink);
            canvas.DrawLine(x0, top + plotH, x0 + plotW, top + plotH, ink);
            for (var tick = min; tick <= max + 1e-9; tick += 0.1)
            {
                Text((100 * tick).ToString("0", CultureInfo.InvariantCulture), x0 - 6, Y(tick) + 4, SKTextAlign.Right, 11);
            }

            var items = groups[g].ToList();
            var slot = (float)plotW / items.Count;
            for (var i = 0; i < items.Count; i++)
            {
                var r = items[i];
                var cx = x0 + (slot * (i + 0.5f));
                canvas.DrawRect(cx - (slot * 0.3f), Y(r.Mean), slot * 0.6f, top + plotH - Y(r.Mean), bar);
                if (double.IsFinite(r.HalfWidth))
                {
                    // Whiskers stay inside the axis range; a cap is drawn only where the interval ends inside it.
                    var lo = Math.Max(min, r.Mean - r.HalfWidth);
                    var hi = Math.Min(max, r.Mean + r.HalfWidth);
                    canvas.DrawLine(cx, Y(lo), cx, Y(hi), ink);
                    if (lo > min)
                    {
                        canvas.DrawLine(cx - 6, Y(lo), cx + 6, Y(lo), ink);
                    }

                    if (hi < max)
                    {
                        canvas.DrawLine(cx - 6, Y(hi), cx + 6, Y(hi), ink);
                    }
                }

                canvas.Save();
                canvas.RotateDegrees(-35, cx, top + plotH + 12);
                Text(r.Variant.Label, cx, top + plotH + 12, SKTextAlign.Right, 11);
                canvas.Restore();
            }

            if (double.IsFinite(baseline))
            {
                canvas.DrawLine(x0, Y(baseline), x0 + plotW, Y(baseline), dash);
            }
        }

        Text("mean F1 ×100 with 95 % CI over seeds; dashed: all-active baseline", 10 + left, height - 8, SKTextAlign.Left, 11);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    private static List<AblationVariant> BuildVariants()
    {
        Dictionary<string, string> With(Dictionary<string, string> baseValues, params (string Key, string Value)[] changes)
        {
            var d = new Dictionary<string, string>(baseValues, StringComparer.Ordinal);
            foreach (var (k, v) in changes)
            {
                d[k] = v;
            }

            return d;
        }

        var bl = With(All, ("p_max", "1"), ("p_aug", "0"), ("p_mix", "0"), ("lambda_min", "1"), ("lambda_maj", "1"), ("au_weight", "off"));
        return
        [
            new("all", "AUNCE (0.15/0.15/0.7, w_i, NS)", All),
            new("wce", "WCE-trained network", With(All, ("objective", "wce"))),
            new("bl", "BL", bl),
            new("bl+w", "BL + w_i", With(bl, ("au_weight", "on"))),
            new("bl+ps", "BL + PS", With(bl, ("p_max", "0.15"), ("p_aug", "0.15"), ("p_mix", "0.7"))),
            new("bl+ns", "BL + NS", With(bl, ("lambda_min", "1.2"), ("lambda_maj", "0.4"))),
            new("p1000", "(1, 0, 0, 0) + w_i + NS", With(All, ("p_max", "1"), ("p_aug", "0"), ("p_mix", "0"))),
            new("p0100", "(0, 1, 0, 0) + w_i + NS", With(All, ("p_max", "0"), ("p_aug", "1"), ("p_mix", "0"))),
            new("p0010", "(0, 0, 1, 0) + w_i + NS", With(All, ("p_max", "0"), ("p_aug", "0"), ("p_mix", "1"))),
        ];
    }
}
