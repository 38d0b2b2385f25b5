using System.Globalization;
using AunceSearch.Grains;
using AunceSearch.Spec;
using AunceSearch.Training;
using AunceSearch.Training.Data;
using AunceSearch.Training.Evaluation;
using AunceSearch.Training.Models;

namespace AunceSearch.Cli;

/// <summary>
/// <c>aunce train SPEC.yaml</c>: trains one configuration — the spec's fixed training values, with <c>--set</c>
/// overrides — on one or all of its folds, with per-epoch progress, a checkpoint per epoch (resumable), and a final
/// per-AU F1/accuracy table (mean ± std over folds). No silo: the same trainer the fold grains run, in this process.
/// </summary>
public static class TrainCommand
{
    public static int Run(string specPath, string[] rest, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        int? onlyFold = null;
        int? epochs = null;
        var output = Path.GetFullPath(Path.Combine(".aunce", "train"));
        var resume = false;
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < rest.Length; i++)
        {
            string Next() => i + 1 < rest.Length ? rest[++i] : throw new UsageException($"{rest[i]} needs a value");
            switch (rest[i])
            {
                case "--fold":
                    onlyFold = int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var f) ? f : throw new UsageException("--fold must be a fold number");
                    break;
                case "--epochs":
                    epochs = int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var e) && e >= 1 ? e : throw new UsageException("--epochs must be an integer >= 1");
                    break;
                case "--out":
                    output = Path.GetFullPath(Next());
                    break;
                case "--resume":
                    resume = true;
                    break;
                case "--set":
                    var (key, value) = OptionArguments.KeyValue("--set", Next(), ", e.g. --set lr=0.0003");
                    overrides[key] = value;
                    break;
                default:
                    throw new UsageException($"unknown option {rest[i]}");
            }
        }

        var spec = SweepSpecLoader.LoadFile(specPath);
        var folds = onlyFold is { } only
            ? spec.Dataset.Folds.Contains(only) ? [only] : throw new SpecException($"{specPath}: --fold {only}: the spec's folds are {string.Join(", ", spec.Dataset.Folds)}")
            : spec.Dataset.Folds.ToArray();
        var known = SpecDefaults.Hyperparameters.Keys.Concat(TrainingSettings.Modes.Keys).ToHashSet(StringComparer.Ordinal);
        foreach (var key in overrides.Keys.Where(k => !known.Contains(k)))
        {
            throw new UsageException($"--set {key}: unknown hyperparameter (known: {string.Join(", ", known.Order(StringComparer.Ordinal))})");
        }

        var hp = spec.Resolve(overrides);
        try
        {
            _ = TrainingSettings.From(hp);
        }
        catch (ArgumentException e)
        {
            throw new SpecException($"{specPath}: {e.Message}");
        }

        stderr.WriteLine(DatasetPreparation.Check(spec, generateIfMissing: true, stderr));
        var total = epochs ?? spec.Training.Epochs;
        var model = spec.Model.ToRef().ToOptions();
        var dataset = spec.Dataset.ToRef();
        stdout.WriteLine($"training '{spec.Name}': encoder {model.Encoder}, {folds.Length} fold(s) x {total} epochs; " +
                         string.Join(" ", hp.Select(kv => $"{kv.Key}={kv.Value}")));
        var finals = new List<FoldAuResult>();
        foreach (var fold in folds)
        {
            var dir = Path.Combine(output, spec.Name, $"f{fold}");
            Directory.CreateDirectory(dir);
            var latest = Directory.GetFiles(dir, "e*.ckpt").Order(StringComparer.Ordinal).LastOrDefault();
            byte[]? from = null;
            if (latest is not null && !resume)
            {
                throw new UsageException($"{dir} already holds checkpoints; pass --resume to continue from {Path.GetFileName(latest)}, or --out another directory");
            }

            if (latest is not null)
            {
                from = File.ReadAllBytes(latest);
                var header = Checkpoint.ReadHeader(from, latest);
                stdout.WriteLine($"fold {fold}: resuming from {latest} (epoch {header.Epoch})");
            }

            FoldAuResult? last = null;
            var request = new FoldTrainingRequest
            {
                Label = $"{spec.Name}/f{fold}",
                Dataset = dataset.ToSource(fold),
                Model = model,
                Augment = spec.Training.Augment.ToRef().ToOptions(),
                Hyperparameters = hp,
                Epochs = total,
                Probe = new ProbeOptions { Steps = spec.Training.ProbeSteps, LearningRate = spec.Training.ProbeLr },
                Seed = ((long)(spec.Seed % 1_000_000_007UL) * 1000) + fold,
                Device = spec.Training.Device,
                ResumeFrom = from,
            };
            try
            {
                FoldTrainer.Run(request, (r, checkpoint) =>
                {
                    var file = Path.Combine(dir, $"e{r.Epoch:0000}.ckpt");
                    File.WriteAllBytes(file + ".tmp", checkpoint);
                    File.Move(file + ".tmp", file, overwrite: true);
                    last = new FoldAuResult(r.Metrics.AuNames, r.Metrics.F1, r.Metrics.Accuracy, r.Baseline?.AllActiveF1 ?? [], r.Baseline?.MajorityAccuracy ?? []);
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"fold {fold} epoch {r.Epoch}/{total}: loss {r.TrainLoss:0.0000}  F1 {r.Metrics.MeanF1:0.0000}  acc {r.Metrics.MeanAccuracy:0.0000}  ({r.Steps} steps, {r.Seconds:0.0} s)  {file}") +
                        (r.Skipped > 0 ? $"  [{r.Skipped} bad data entries skipped]" : ""));
                }, cancellationToken);
            }
            catch (ArgumentException e)
            {
                throw new SpecException($"{specPath}: {e.Message}");
            }

            if (last is null && from is not null)
            {
                var header = Checkpoint.ReadHeader(from, latest!);
                stdout.WriteLine($"fold {fold}: already trained through epoch {header.Epoch} (F1 {header.MeanF1:0.0000})");
                continue;
            }

            finals.Add(last!);
        }

        if (finals.Count > 0)
        {
            AuTable.Write(stdout, finals, "per-AU results on the test splits at the last epoch, beside the trivial baselines of the same splits");
        }

        return ExitCodes.Ok;
    }
}
