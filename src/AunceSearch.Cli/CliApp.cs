using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Reflection;
using AunceSearch.Hosting;
using AunceSearch.Model;
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
    /// <summary>How long a command has, after Ctrl-C or SIGTERM cancelled its token, to stop cleanly before the process exits.</summary>
    public static readonly TimeSpan SignalGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Parses and runs one command line. <paramref name="handleSignals"/> (the real process) turns Ctrl-C and SIGTERM into
    /// cancellation of the command's token; a cancelled command stops cleanly and exits 1.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default,
        bool handleSignals = false)
    {
        var root = Commands.Build(stdout, stderr);
        var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"error: {error.Message}");
            }

            await stderr.WriteLineAsync($"run '{CommandPath(parse)} --help' for usage");
            return ExitCodes.BadInput;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = handleSignals ? SignalGrace : null,
            }, cancellationToken);
        }
        catch (UsageException e)
        {
            await stderr.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception e) when (BadInput(e) is { } message)
        {
            await stderr.WriteLineAsync($"error: {message}");
            return ExitCodes.BadInput;
        }
        catch (DiskFullException e)
        {
            await stderr.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.Failed;
        }
        catch (Exception e) when (Checkpoints.DurableFile.IsDiskFull(e))
        {
            await stderr.WriteLineAsync($"error: no space left on device ({e.Message.Split('\n')[0]}); nothing already stored is lost: free space and run the command again");
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException)
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
        InvalidDataException when e.Message.StartsWith("sweep '", StringComparison.Ordinal) => e.Message,   // a sweep's damaged stored state
        AunceConfigurationException => $"configuration: {e.Message}",
        Microsoft.Extensions.Options.OptionsValidationException v => $"configuration: {string.Join("; ", v.Failures)}",
        InvalidOperationException when e.Message.StartsWith("Aunce:", StringComparison.Ordinal) => $"configuration: {e.Message}",
        _ when RedisConnection.RefusedPassword(e) is { } refusal => $"Redis refused this host's password (Aunce:Silo:RedisPassword): {refusal}",
        _ => null,
    };

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r is not null; r = r.Parent as CommandResult)
        {
            names.Insert(0, r.Command.Name);
        }

        names[0] = "aunce";
        return string.Join(" ", names);
    }

    internal static async Task<int> DemoAsync(RunOptions options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
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

    internal static async Task<int> SweepRunAsync(string specPath, RunOptions options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (!File.Exists(specPath))
        {
            throw new SpecException(Directory.Exists(specPath) ? $"{specPath}: is a directory, not a sweep spec file" : $"{specPath}: sweep spec file not found");
        }

        var full = Path.GetFullPath(specPath);
        var yaml = await File.ReadAllTextAsync(full, cancellationToken);
        return await new SweepRunner(stdout, stderr, options).RunAsync(yaml, specPath, Path.GetDirectoryName(full)!, cancellationToken);
    }

    internal static int Validate(string specPath, bool deep, TextWriter stdout, TextWriter stderr)
    {
        var spec = SweepSpecLoader.LoadFile(specPath);
        var folds = DatasetPreparation.Check(spec, generateIfMissing: false, specFile: specPath);
        if (deep)
        {
            folds += "; " + DatasetPreparation.DeepCheck(spec, stderr);
        }

        // The store a plain `sweep run` in this folder would use (the embedded default).
        var space = Preflight.CheckCheckpointSpace(spec, new Checkpoints.CheckpointStoreOptions(), stderr);
        stdout.WriteLine($"{specPath}: ok — sweep '{spec.Name}', {spec.Search.Trials} trials, {spec.Search.Space.Length} searched parameter group(s), " +
                         $"{spec.Folds.Length} folds, up to {spec.Training.Epochs} epochs; {folds}");
        stdout.WriteLine(space);
        return ExitCodes.Ok;
    }

    internal static int Synthesize(string dir, SyntheticOptions o, TextWriter stdout)
    {
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

/// <summary>A disk filled up during a sweep: stored state is intact, and the message says how to continue.</summary>
public sealed class DiskFullException(string message, Exception inner) : Exception(message, inner);

/// <summary>Bad command-line arguments.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Options shared by <c>demo</c> and <c>sweep run</c>.</summary>
/// <summary>Options shared by <c>demo</c>, <c>sweep run</c> and <c>ablation</c>; <paramref name="Id"/> names the sweep (default: a fresh unique id).</summary>
public sealed record RunOptions(bool Verbose, int? Trials, IReadOnlyDictionary<string, string?> Config, string JournalDirectory, string? Id = null, bool Detach = false, bool Plain = false,
    bool DetachOnInterrupt = false);
