using System.Globalization;
using System.Reflection;
using AunceSearch.Hosting;
using AunceSearch.Spec;
using AunceSearch.Training;
using AunceSearch.Training.Data;

namespace AunceSearch.Cli;

/// <summary>Exit codes of the <c>aunce</c> command.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
}

/// <summary>The <c>aunce</c> command line: one method per verb, each returning an exit code.</summary>
public static class CliApp
{
    public const string Usage = """
        usage: aunce <command> [options]

          demo [--trials N] [-v]            run the demo sweep (synthetic AU data, AUNCE, random search + ASHA)
                                            on an embedded silo with local checkpoints
          sweep run SPEC.yaml [-v]          run a sweep from a YAML spec on an embedded silo
          sweep validate SPEC.yaml [--deep] check a spec (and that its dataset can be read) without training; --deep
                                            decodes every image and reports every unusable one with its list line
          sweep explain SWEEP [TRIAL]       why each trial of a finished sweep was paused, promoted, stopped or completed
                                            (SWEEP: a sweep id under .aunce/sweeps, or a journal directory)
          scheduler replay TRACE.json [--check] [--explain]
                                            feed a pruner trace (aunce-pruner-trace/1, e.g. from Optuna) to the equivalent
                                            AunceSearch pruner; print one JSON decision per report; --check compares with
                                            the trace's decisions and exits 1 on any mismatch
          train SPEC.yaml [--fold N] [--epochs N] [--set KEY=VALUE] [--out DIR] [--resume]
                                            train one configuration (the spec's training values, --set overrides) on
                                            its folds; checkpoints per epoch under DIR (default ./.aunce/train); a final
                                            per-AU F1/accuracy table (mean ± std over folds)
          ablation SPEC.yaml [--seeds N] [--tables VI,VII,VIII] [--out DIR]
                                            the AUNCE paper's ablation (Tables VI, VII, VIII) on the spec's dataset, model
                                            and budget through the sweep engine: mean F1 with 95 % CIs over seeds, as
                                            text (tables.txt), JSON and a PNG plot (default DIR ./.aunce/ablation/...)
          loss check --vectors FILE         check the AUNCE loss (and WCE, metrics) against reference vectors; exit 1 on any miss
          silo                              run a silo host (cluster member); configured by Aunce__* environment variables
          data synth DIR [--subjects N] [--images N] [--size N] [--noise P] [--folds N] [--seed N]
                                            write a synthetic AU-face dataset in the AUNCE list layout

        options for demo and sweep run:
          --config KEY=VALUE                set a configuration value, e.g. Aunce:Checkpoints:Store=azure-blob
          --journal DIR                     where sweep journals go (default ./.aunce/sweeps)
          -v, --verbose                     also print silo and training logs (stderr)

        exit codes: 0 success, 1 the sweep failed, 2 bad input (spec, data, arguments)
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        try
        {
            return args switch
            {
                [] or ["help"] or ["--help"] or ["-h"] => Help(stdout),
                ["demo", .. var rest] => await DemoAsync(rest, stdout, stderr, cancellationToken),
                ["sweep", "run", var spec, .. var rest] => await SweepRunAsync(spec, rest, stdout, stderr, cancellationToken),
                ["sweep", "validate", var spec, .. var rest] => Validate(spec, rest, stdout, stderr),
                ["sweep", "explain", var sweep, .. var rest] => SweepJournal.Explain(sweep, rest, stdout, stderr),
                ["silo", .. var rest] => await SiloHost.RunAsync(rest, cancellationToken),
                ["data", "synth", var dir, .. var rest] => Synthesize(dir, rest, stdout),
                ["scheduler", "replay", var trace, .. var rest] => SchedulerReplay.Run(trace, rest, stdout, stderr),
                ["loss", "check", .. var rest] => LossCheck.Run(rest, stdout, stderr),
                ["train", var spec, .. var rest] => TrainCommand.Run(spec, rest, stdout, stderr, cancellationToken),
                ["ablation", var spec, .. var rest] => await AblationCommand.RunAsync(spec, rest, stdout, stderr, cancellationToken),
                _ => UsageError(stderr, $"unknown command: aunce {string.Join(" ", args)}"),
            };
        }
        catch (UsageException e)
        {
            return UsageError(stderr, e.Message);
        }
        catch (Exception e) when (BadInput(e) is { } message)
        {
            await stderr.WriteLineAsync($"error: {message}");
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("error: cancelled");
            return ExitCodes.Failed;
        }
        catch (Exception e)
        {
            // Anything else is a failure of the run, not of the input: one line, the stack trace only with -v.
            var verbose = args.Contains("-v") || args.Contains("--verbose");
            await stderr.WriteLineAsync($"error: {e.GetType().Name}: {e.Message}" + (verbose ? "" : " (run with -v for details)"));
            if (verbose)
            {
                await stderr.WriteLineAsync(e.ToString());
            }

            return ExitCodes.Failed;
        }
    }

    /// <summary>The one-line message of an exception that means bad input (exit 2), or null for any other failure.</summary>
    private static string? BadInput(Exception e) => e switch
    {
        SpecException or DataFormatException or PreflightException or CheckpointMismatchException => e.Message,
        AunceConfigurationException => $"configuration: {e.Message}",
        Microsoft.Extensions.Options.OptionsValidationException v => $"configuration: {string.Join("; ", v.Failures)}",
        InvalidOperationException when e.Message.StartsWith("Aunce:", StringComparison.Ordinal) => $"configuration: {e.Message}",
        _ => null,
    };

    private static int Help(TextWriter stdout)
    {
        stdout.WriteLine(Usage);
        return ExitCodes.Ok;
    }

    private static int UsageError(TextWriter stderr, string message)
    {
        stderr.WriteLine($"error: {message}");
        stderr.WriteLine(Usage);
        return ExitCodes.BadInput;
    }

    private static async Task<int> DemoAsync(string[] rest, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var options = RunOptions.Parse(rest, allowTrials: true);
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("demo.yaml")
            ?? throw new InvalidOperationException("the demo spec is not embedded in this build");
        var yaml = await new StreamReader(stream).ReadToEndAsync(cancellationToken);
        if (options.Trials is { } trials)
        {
            yaml = yaml.Replace("  trials: 8", $"  trials: {trials.ToString(CultureInfo.InvariantCulture)}", StringComparison.Ordinal);
        }

        // The embedded spec resolves its relative paths as if it lived in ./examples.
        var baseDirectory = Path.Combine(Directory.GetCurrentDirectory(), "examples");
        return await new SweepRunner(stdout, stderr, options).RunAsync(yaml, "demo.yaml", baseDirectory, cancellationToken);
    }

    private static async Task<int> SweepRunAsync(string specPath, string[] rest, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var options = RunOptions.Parse(rest, allowTrials: false);
        if (!File.Exists(specPath))
        {
            throw new SpecException($"{specPath}: sweep spec file not found");
        }

        var full = Path.GetFullPath(specPath);
        var yaml = await File.ReadAllTextAsync(full, cancellationToken);
        return await new SweepRunner(stdout, stderr, options).RunAsync(yaml, specPath, Path.GetDirectoryName(full)!, cancellationToken);
    }

    private static int Validate(string specPath, string[] rest, TextWriter stdout, TextWriter stderr)
    {
        var deep = rest switch
        {
            [] => false,
            ["--deep"] => true,
            _ => throw new UsageException($"sweep validate: unknown option {rest.First(r => r != "--deep")}"),
        };
        var spec = SweepSpecLoader.LoadFile(specPath);
        var folds = DatasetPreparation.Check(spec, generateIfMissing: false);
        if (deep)
        {
            folds += "; " + DatasetPreparation.DeepCheck(spec, stderr);
        }

        stdout.WriteLine($"{specPath}: ok — sweep '{spec.Name}', {spec.Search.Trials} trials, {spec.Search.Space.Domains.Length} searched parameter group(s), " +
                         $"{spec.Dataset.Folds.Length} folds, up to {spec.Training.Epochs} epochs; {folds}");
        return ExitCodes.Ok;
    }

    private static int Synthesize(string dir, string[] rest, TextWriter stdout)
    {
        var o = new SyntheticOptions();
        for (var i = 0; i < rest.Length; i++)
        {
            string Next() => i + 1 < rest.Length ? rest[++i] : throw new UsageException($"{rest[i]} needs a value");
            int Int(string name, int min) => int.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min
                ? v : throw new UsageException($"{name} must be an integer >= {min}");
            switch (rest[i])
            {
                case "--subjects": o = o with { Subjects = Int("--subjects", 2) }; break;
                case "--images": o = o with { ImagesPerSubject = Int("--images", 1) }; break;
                case "--size": o = o with { ImageSize = Int("--size", 32) }; break;
                case "--folds": o = o with { Folds = Int("--folds", 2) }; break;
                case "--seed": o = o with { Seed = Int("--seed", 0) }; break;
                case "--noise":
                    o = o with
                    {
                        LabelNoise = double.TryParse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture, out var p) && p is >= 0 and < 0.5
                            ? p : throw new UsageException("--noise must be a probability in [0, 0.5)"),
                    };
                    break;
                default: throw new UsageException($"unknown option {rest[i]}");
            }
        }

        try
        {
            SyntheticAuFaces.Generate(dir, o);
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            throw new DataFormatException(e.Message);
        }

        stdout.WriteLine($"wrote {o.Subjects * o.ImagesPerSubject} images of {o.Subjects} subjects, {o.Folds} folds, to {Path.GetFullPath(dir)}");
        return ExitCodes.Ok;
    }
}

/// <summary>Bad command-line arguments.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Helpers for option arguments shared by the commands.</summary>
internal static class OptionArguments
{
    /// <summary>Splits an option's <c>KEY=VALUE</c> argument; <paramref name="example"/> (e.g. ", e.g. --set lr=0.0003") ends the error.</summary>
    public static (string Key, string Value) KeyValue(string option, string text, string example = "")
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        return eq > 0 ? (text[..eq], text[(eq + 1)..]) : throw new UsageException($"{option} '{text}' must be KEY=VALUE{example}");
    }
}

/// <summary>Options shared by <c>demo</c> and <c>sweep run</c>.</summary>
public sealed record RunOptions(bool Verbose, int? Trials, IReadOnlyDictionary<string, string?> Config, string JournalDirectory)
{
    public static RunOptions Parse(string[] args, bool allowTrials)
    {
        var verbose = false;
        int? trials = null;
        var config = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var journal = Path.Combine(Directory.GetCurrentDirectory(), ".aunce", "sweeps");
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-v" or "--verbose":
                    verbose = true;
                    break;
                case "--trials" when allowTrials:
                    trials = i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var t) && t >= 1
                        ? t : throw new UsageException("--trials must be an integer >= 1");
                    break;
                case "--journal":
                    journal = i + 1 < args.Length ? Path.GetFullPath(args[++i]) : throw new UsageException("--journal needs a directory");
                    break;
                case "--config":
                    var (key, value) = OptionArguments.KeyValue("--config", i + 1 < args.Length ? args[++i] : throw new UsageException("--config needs KEY=VALUE"));
                    config[key] = value;
                    break;
                default:
                    throw new UsageException($"unknown option {args[i]}");
            }
        }

        return new RunOptions(verbose, trials, config, journal);
    }
}
