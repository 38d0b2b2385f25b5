using System.Globalization;
using AunceSearch.Model;
using AunceSearch.Spec;
using AunceSearch.Training;
using AunceSearch.Training.Data;
using AunceSearch.Training.Evaluation;

namespace AunceSearch.Cli;

/// <summary>What <c>aunce train</c> was asked for: one fold or all, through which epoch, where, resuming or not, and <c>--set</c> overrides.</summary>
public sealed record TrainOptions(int? Fold, int? Epochs, string Output, bool Resume, IReadOnlyDictionary<string, string> Overrides);

/// <summary>
/// <c>aunce train SPEC.yaml</c>: trains one configuration — the spec's fixed training values, with <c>--set</c>
/// overrides — on one or all of its folds, with per-epoch progress, a checkpoint per epoch (resumable), and a final
/// per-AU F1/accuracy table (mean ± std over folds). No silo: the same trainer the fold grains run, in this process.
/// </summary>
public static class TrainCommand
{
    public static int Run(string specPath, TrainOptions options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var (onlyFold, epochs, output, resume, overrides) = options;
        var spec = SweepSpecLoader.LoadFile(specPath);
        var folds = onlyFold is { } only
            ? spec.Folds.Contains(only) ? [only] : throw new SpecException($"{specPath}: --fold {only}: the spec's folds are {string.Join(", ", spec.Folds)}")
            : spec.Folds;
        var known = TrainingVocabulary.Hyperparameters.Keys.Concat(TrainingSettings.Modes.Keys).ToHashSet(StringComparer.Ordinal);
        foreach (var key in overrides.Keys.Where(k => !known.Contains(k)))
        {
            throw new UsageException($"--set {key}: unknown hyperparameter (known: {string.Join(", ", known.Order(StringComparer.Ordinal))})");
        }

        var hp = spec.Training.Resolve(overrides);
        try
        {
            _ = TrainingSettings.From(hp);
        }
        catch (ArgumentException e)
        {
            throw new SpecException($"{specPath}: {e.Message}");
        }

        stderr.WriteLine(DatasetPreparation.Check(spec, generateIfMissing: true, stderr, specPath));
        Preflight.CheckDevice(spec);
        Preflight.CheckPretrained(spec);
        if (Checkpoints.CheckpointStoreProbe.WritableDirectory("--out", output) is { } unwritable)
        {
            throw new PreflightException(unwritable);
        }

        var total = epochs ?? spec.Training.Epochs;
        var model = spec.Model;
        stdout.WriteLine($"training '{spec.Name}': encoder {model.Encoder}, {folds.Length} fold(s) x {total} epochs; " +
                         string.Join(" ", hp.Select(kv => $"{kv.Key}={kv.Value}")));
        var finals = new List<FoldAuResult>();
        foreach (var fold in folds)
        {
            var dir = Path.Combine(output, spec.Name, $"f{fold}");
            Directory.CreateDirectory(dir);
            var (from, fromFile, fromHeader) = resume ? PickResume(dir, stderr) : (null, null, null);
            if (!resume && Directory.GetFiles(dir, "e*.ckpt").Order(StringComparer.Ordinal).LastOrDefault() is { } existing)
            {
                throw new UsageException($"{dir} already holds checkpoints; pass --resume to continue from {Path.GetFileName(existing)}, or --out another directory");
            }

            if (fromHeader is not null)
            {
                var differences = Checkpoint.ModelDifferences(fromHeader.Model, model with { InputSize = spec.Dataset.EffectiveCrop })
                    .Concat(HyperparameterDifferences(fromHeader.Hyperparameters, hp)).ToList();
                if (differences.Count > 0)
                {
                    throw new SpecException($"{fromFile}: --resume: the checkpoint was trained with other settings than the spec and --set give now: " +
                                            $"{string.Join(", ", differences)}; resume with the same settings, or train into another --out");
                }

                stdout.WriteLine($"fold {fold}: resuming from {fromFile} (epoch {fromHeader.Epoch})");
            }

            FoldAuResult? last = null;
            var request = new FoldTrainingRequest
            {
                Label = $"{spec.Name}/f{fold}",
                Dataset = new DatasetSource(spec.Dataset, fold),
                Model = model,
                Augment = spec.Training.Augment,
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
                    if (File.Exists(file))
                    {
                        // Only a damaged checkpoint that --resume passed over can be here: keep it, never overwrite it.
                        var kept = KeepAside(file);
                        stderr.WriteLine($"warning: {file} was damaged; kept as {Path.GetFileName(kept)}");
                    }

                    Checkpoints.DurableFile.Replace(file, checkpoint);
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
            catch (TrainingDivergedException e)
            {
                stderr.WriteLine($"error: fold {fold}: {e.Message}");
                return ExitCodes.Failed;
            }

            if (last is null && fromHeader is not null)
            {
                stdout.WriteLine($"fold {fold}: already trained through epoch {fromHeader.Epoch} (F1 {fromHeader.MeanF1:0.0000})");
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

    /// <summary>
    /// The newest checkpoint of <paramref name="dir"/> that is sound (<see cref="Checkpoint.Inspect"/>), warning about each
    /// damaged one passed over; none at all is an error. Nothing is changed on disk.
    /// </summary>
    private static (byte[]? Data, string? File, CheckpointHeader? Header) PickResume(string dir, TextWriter stderr)
    {
        var files = Directory.GetFiles(dir, "e*.ckpt").Order(StringComparer.Ordinal).ToList();
        var problems = new List<string>();
        for (var k = files.Count - 1; k >= 0; k--)
        {
            var data = File.ReadAllBytes(files[k]);
            try
            {
                var (header, _) = Checkpoint.Inspect(data, files[k]);
                if (problems.Count > 0)
                {
                    stderr.WriteLine($"warning: resuming from the previous good checkpoint {Path.GetFileName(files[k])} (epoch {header.Epoch})");
                }

                return (data, files[k], header);
            }
            catch (InvalidDataException e)
            {
                stderr.WriteLine($"warning: {e.Message}; trying the checkpoint before it");
                problems.Add(e.Message);
            }
        }

        return files.Count == 0 ? (null, null, null)
            : throw new DataFormatException($"{dir}: --resume: no usable checkpoint ({string.Join("; ", problems)})");
    }

    /// <summary>The hyperparameters that differ, as "lr 0.001 (now 0.002)".</summary>
    /// <summary>What differs between a checkpoint's hyperparameters and today's; one that a side leaves out reads as its vocabulary default (what the trainer uses).</summary>
    private static IEnumerable<string> HyperparameterDifferences(IReadOnlyDictionary<string, string> stored, IReadOnlyDictionary<string, string> now) =>
        stored.Keys.Union(now.Keys).Order(StringComparer.Ordinal)
            .Where(k => !(Value(stored, k) is { } a && Value(now, k) is { } b && a == b))
            .Select(k => $"{k} {Value(stored, k) ?? "unset"} (now {Value(now, k) ?? "unset"})");

    private static string? Value(IReadOnlyDictionary<string, string> hp, string key) =>
        hp.TryGetValue(key, out var v) ? v
        : TrainingVocabulary.DefaultTexts.GetValueOrDefault(key);

    /// <summary>Renames <paramref name="file"/> to a free "NAME.damaged[-N]" beside it and returns the new path.</summary>
    private static string KeepAside(string file)
    {
        var target = file + ".damaged";
        for (var n = 2; File.Exists(target); n++)
        {
            target = $"{file}.damaged-{n}";
        }

        File.Move(file, target);
        return target;
    }
}
