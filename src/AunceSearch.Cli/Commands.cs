using System.CommandLine;
using System.CommandLine.Parsing;
using AunceSearch.Model;

namespace AunceSearch.Cli;

/// <summary>
/// The <c>aunce</c> command tree on System.CommandLine: typed options that may come in any order, <c>--help</c> on every
/// command, value checks as validators (so a bad value is a parse error, exit 2, before anything runs), and the
/// invocation's cancellation token (Ctrl-C, SIGTERM) handed to every command.
/// </summary>
internal static class Commands
{
    public static RootCommand Build(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("""
            AunceSearch: hyperparameter search for AU detectors trained with the AUNCE loss.
            Exit codes: 0 success; 1 the run failed (a failed sweep, diverged training, Ctrl-C or SIGTERM); 2 bad input (arguments,
            spec, data, configuration, environment), with one line naming the input. Every command has --help.
            """);
        root.Subcommands.Add(Demo(stdout, stderr));
        root.Subcommands.Add(Sweep(stdout, stderr));
        root.Subcommands.Add(Train(stdout, stderr));
        root.Subcommands.Add(CheckpointCommands(stdout, stderr));
        root.Subcommands.Add(Ablation(stdout, stderr));
        root.Subcommands.Add(Scheduler(stdout, stderr));
        root.Subcommands.Add(Loss(stdout, stderr));
        root.Subcommands.Add(Data(stdout));
        root.Subcommands.Add(Silo(stdout, stderr));
        root.Subcommands.Add(Serve(stdout));
        root.Subcommands.Add(Cluster(stdout));
        return root;
    }

    // Options shared by the commands that run sweeps.
    private sealed record RunSymbols(Option<bool> Verbose, Option<string[]> Config, Option<string> Journal, Option<string>? Id = null)
    {
        public Option<bool> Plain { get; } = new("--plain") { Description = "one line per event even on a terminal (no live table)" };

        public Option<string> OnInterrupt { get; } = new Option<string>("--on-interrupt")
        {
            Description = "what Ctrl-C or SIGTERM does: cancel the sweep, or detach (stop following; embedded, running folds stop at a step and aunce sweep resume ID continues)",
            DefaultValueFactory = _ => "cancel",
            HelpName = "cancel|detach",
        }.AcceptOnlyFromAmong("cancel", "detach");

        public static RunSymbols Create()
        {
            var config = KeyValueOption("--config", "set a configuration value, e.g. Aunce:Checkpoints:Store=azure-blob (repeatable)", "");
            return new RunSymbols(
                new Option<bool>("--verbose", "-v") { Description = "also print silo and training logs (stderr)" },
                config,
                JournalOption());
        }

        /// <summary>With <c>--id</c>: the commands that run exactly one sweep.</summary>
        public static RunSymbols CreateWithId()
        {
            var id = new Option<string>("--id") { Description = "the sweep's id (default NAME-TIME-RANDOM); an id that exists is refused", HelpName = "ID" };
            id.Validators.Add(r =>
            {
                if (Value<string>(r) is { } v && SweepJournal.IdProblem(v) is { } problem)
                {
                    r.AddError(problem);
                }
            });
            return Create() with { Id = id };
        }

        public void AddTo(Command command)
        {
            command.Options.Add(Verbose);
            command.Options.Add(Config);
            command.Options.Add(Journal);
            command.Options.Add(Plain);
            command.Options.Add(OnInterrupt);
            if (Id is not null)
            {
                command.Options.Add(Id);
            }
        }

        public RunOptions Read(ParseResult parse, int? trials = null) => new(
            parse.GetValue(Verbose),
            trials,
            ConfigValues(parse, Config),
            Path.GetFullPath(parse.GetValue(Journal) ?? Path.Combine(Directory.GetCurrentDirectory(), ".aunce", "sweeps")),
            Id is null ? null : parse.GetValue(Id),
            Plain: parse.GetValue(Plain),
            DetachOnInterrupt: parse.GetValue(OnInterrupt) == "detach");
    }

    private static Command Demo(TextWriter stdout, TextWriter stderr)
    {
        var trials = new Option<int?>("--trials") { Description = "number of trials (default: the demo spec's 8)", HelpName = "N" };
        trials.Validators.Add(AtLeast(trials, 1));
        var run = RunSymbols.CreateWithId();
        var command = new Command("demo", "run the demo sweep (synthetic AU data, AUNCE, random search + ASHA) on an embedded silo with local checkpoints");
        command.Options.Add(trials);
        run.AddTo(command);
        command.SetAction((parse, ct) => CliApp.DemoAsync(run.Read(parse, parse.GetValue(trials)), stdout, stderr, ct));
        return command;
    }

    private static Command Sweep(TextWriter stdout, TextWriter stderr)
    {
        var sweep = new Command("sweep", "run, check and explain sweeps");

        var spec = SpecArgument();
        var run = RunSymbols.CreateWithId();
        var detach = new Option<bool>("--detach") { Description = "with a cluster (Aunce:Cluster:Redis): submit and return; aunce sweep resume ID follows it later" };
        var runCommand = new Command("run", "run a sweep from a YAML spec: on an embedded silo, or submitted to a cluster (Aunce:Cluster:Redis)") { spec, detach };
        run.AddTo(runCommand);
        runCommand.SetAction((parse, ct) => CliApp.SweepRunAsync(parse.GetValue(spec)!, run.Read(parse) with { Detach = parse.GetValue(detach) }, stdout, stderr, ct));
        sweep.Subcommands.Add(runCommand);

        var validateSpec = SpecArgument();
        var deep = new Option<bool>("--deep") { Description = "also decode every image and report every unusable one with its list line" };
        var validate = new Command("validate", "check a spec (and that its dataset can be read) without training") { validateSpec, deep };
        validate.SetAction(parse => CliApp.Validate(parse.GetValue(validateSpec)!, parse.GetValue(deep), stdout, stderr));
        sweep.Subcommands.Add(validate);

        var resumeId = new Argument<string>("ID") { Description = "the sweep's id (its journal under --journal)" };
        var resumeRun = RunSymbols.Create();
        var resume = new Command("resume", "continue a sweep whose process died or that was cancelled: interrupted trials resume from their checkpoints") { resumeId };
        resumeRun.AddTo(resume);
        resume.SetAction((parse, ct) => new SweepRunner(stdout, stderr, resumeRun.Read(parse)).ResumeAsync(parse.GetValue(resumeId)!, ct));
        sweep.Subcommands.Add(resume);

        var statusId = new Argument<string>("ID") { Description = "the sweep's id" };
        var json = new Option<bool>("--json") { Description = "print the status as JSON (every trial, every decision with its evidence)" };
        var statusJournal = JournalOption();
        var statusConfig = RecordConfigOption();
        var status = new Command("status", "a sweep's state and leaderboard, from its record (what the sweep's grain and the API say, current while it runs)") { statusId, json, statusJournal, statusConfig };
        status.SetAction(async (parse, ct) =>
        {
            var root = JournalRoot(parse, statusJournal);
            await using var records = new SweepRecords(root, [.. ConfigValues(parse, statusConfig)], stderr);
            return await SweepJournal.StatusAsync(records, root, parse.GetValue(statusId)!, parse.GetValue(json), stdout, ct);
        });
        sweep.Subcommands.Add(status);

        var cancelId = new Argument<string>("ID") { Description = "the sweep's id" };
        var cancelRun = RunSymbols.Create();
        var cancel = new Command("cancel", "cancel a sweep: its running trials stop at the next step; aunce sweep resume continues it later") { cancelId };
        cancelRun.AddTo(cancel);
        cancel.SetAction((parse, ct) => new SweepRunner(stdout, stderr, cancelRun.Read(parse)).CancelAsync(parse.GetValue(cancelId)!, ct));
        sweep.Subcommands.Add(cancel);

        var listJournal = JournalOption();
        var listConfig = RecordConfigOption();
        var list = new Command("list", "every sweep in the journal folder, newest first, as its record says") { listJournal, listConfig };
        list.SetAction(async (parse, ct) =>
        {
            var root = JournalRoot(parse, listJournal);
            await using var records = new SweepRecords(root, [.. ConfigValues(parse, listConfig)], stderr);
            return await SweepJournal.ListAsync(records, root, stdout, ct);
        });
        sweep.Subcommands.Add(list);

        var id = new Argument<string>("SWEEP") { Description = "a sweep id under --journal, or a sweep's journal directory" };
        var trial = new Argument<int?>("TRIAL") { Description = "only this trial", Arity = ArgumentArity.ZeroOrOne };
        var explainJournal = JournalOption();
        var explainConfig = RecordConfigOption();
        var explain = new Command("explain", "why each trial of a sweep was paused, promoted, stopped or completed, from its record") { id, trial, explainJournal, explainConfig };
        explain.SetAction(async (parse, ct) =>
        {
            var given = parse.GetValue(id)!;
            var directory = Directory.Exists(given) && File.Exists(Path.Combine(given, "spec.yaml")) ? Path.GetFullPath(given).TrimEnd(Path.DirectorySeparatorChar) : null;
            var (root, sweepId) = directory is null ? (JournalRoot(parse, explainJournal), given) : (Path.GetDirectoryName(directory)!, Path.GetFileName(directory));
            await using var records = new SweepRecords(root, [.. ConfigValues(parse, explainConfig)], stderr);
            return await SweepJournal.ExplainAsync(records, sweepId, parse.GetValue(trial), stdout, ct);
        });
        sweep.Subcommands.Add(explain);

        var exportId = new Argument<string>("ID") { Description = "the sweep's id" };
        var exportFormat = new Option<string?>("--format")
        {
            Description = "csv, jsonl or parquet (default: from --output's extension)",
            HelpName = "csv|jsonl|parquet",
        }.AcceptOnlyFromAmong("csv", "jsonl", "parquet");
        var exportOutput = new Option<string>("--output", "-o") { Description = "the file to write (written whole, then renamed into place)", HelpName = "FILE", Required = true };
        var curves = new Option<bool>("--curves") { Description = "one row per trial and epoch (the learning curves) instead of one per trial" };
        var exportJournal = JournalOption();
        var exportConfig = RecordConfigOption();
        var export = new Command("export", "a sweep's trials as a table for pandas: hyperparameters as params_* columns, fold values, state, last decision")
        {
            exportId, exportFormat, exportOutput, curves, exportJournal, exportConfig,
        };
        export.SetAction(async (parse, ct) =>
        {
            var root = JournalRoot(parse, exportJournal);
            await using var records = new SweepRecords(root, [.. ConfigValues(parse, exportConfig)], stderr);
            return await SweepJournal.ExportAsync(records, parse.GetValue(exportId)!, parse.GetValue(exportFormat), parse.GetValue(exportOutput)!,
                parse.GetValue(curves), stdout, ct);
        });
        sweep.Subcommands.Add(export);

        var importanceId = new Argument<string>("ID") { Description = "the sweep's id" };
        var importanceEpoch = new Option<int?>("--epoch") { Description = "compare every trial's value at this epoch (a rung) instead of completed trials' final values", HelpName = "N" };
        var quantile = new Option<double>("--quantile") { Description = "the top fraction whose parameters are compared with the rest", DefaultValueFactory = _ => 0.1, HelpName = "Q" };
        var global = new Option<bool>("--global") { Description = "compare with the whole search range rather than with where the search went" };
        var importanceJson = new Option<bool>("--json") { Description = "print the report as JSON" };
        var importanceJournal = JournalOption();
        var importanceConfig = RecordConfigOption();
        var importance = new Command("importance", "which hyperparameters mattered for the best results: PED-ANOVA (Optuna 5's default) over the sweep's trials")
        {
            importanceId, importanceEpoch, quantile, global, importanceJson, importanceJournal, importanceConfig,
        };
        importance.SetAction(async (parse, ct) =>
        {
            var root = JournalRoot(parse, importanceJournal);
            await using var records = new SweepRecords(root, [.. ConfigValues(parse, importanceConfig)], stderr);
            return await SweepJournal.ImportanceAsync(records, root, parse.GetValue(importanceId)!, parse.GetValue(importanceEpoch), parse.GetValue(quantile),
                parse.GetValue(global), parse.GetValue(importanceJson), stdout, ct);
        });
        sweep.Subcommands.Add(importance);
        return sweep;
    }

    private static Command CheckpointCommands(TextWriter stdout, TextWriter stderr)
    {
        var sweepId = new Argument<string>("SWEEP") { Description = "the sweep's id (its journal under --journal)" };
        var trial = IntOption("--trial", 0, "this trial's checkpoint (default: the sweep's best trial)");
        var best = new Option<bool>("--best") { Description = "the sweep's best trial (the default)" };
        var fold = IntOption("--fold", 0, "this fold's checkpoint (default: the trial's best fold on its test split)");
        var format = new Option<string>("--format")
        {
            Description = "pt: a PyTorch state dict (torch.load); safetensors; native: the checkpoint as stored",
            DefaultValueFactory = _ => "pt",
            HelpName = "pt|safetensors|native",
        }.AcceptOnlyFromAmong("pt", "safetensors", "native");
        var output = new Option<string>("--output", "-o") { Description = "the file to write (its directory must exist)", HelpName = "PATH", Required = true };
        var createDirs = new Option<bool>("--create-dirs") { Description = "create the directory of --output when it does not exist" };
        var config = KeyValueOption("--config", "a checkpoint-store setting for a sweep that ran on a cluster, e.g. Aunce:Checkpoints:ConnectionString=... (repeatable)", "");
        var journal = JournalOption();
        var download = new Command("download", "export a trial's latest checkpoint (the best trial by default) as a PyTorch state dict, safetensors or as stored; prints its SHA-256")
        {
            sweepId, trial, best, fold, format, output, createDirs, config, journal,
        };
        download.Validators.Add(r =>
        {
            if (r.GetValue(best) && r.GetValue(trial) is not null)
            {
                r.AddError("--trial and --best are alternatives: give one");
            }
        });
        download.SetAction((parse, ct) => CheckpointCommand.DownloadAsync(new DownloadOptions(
            parse.GetValue(sweepId)!,
            parse.GetValue(trial),
            parse.GetValue(fold),
            parse.GetValue(format) switch
            {
                "safetensors" => Training.Export.ExportFormat.Safetensors,
                "native" => Training.Export.ExportFormat.Native,
                _ => Training.Export.ExportFormat.Pt,
            },
            Path.GetFullPath(parse.GetValue(output)!),
            JournalRoot(parse, journal),
            ConfigValues(parse, config),
            parse.GetValue(createDirs)), stdout, stderr, ct));

        var command = new Command("checkpoint", "take a sweep's trained models");
        command.Subcommands.Add(download);
        return command;
    }

    private static Command Train(TextWriter stdout, TextWriter stderr)
    {
        var spec = SpecArgument();
        var fold = new Option<int?>("--fold") { Description = "train only this fold", HelpName = "N" };
        var epochs = new Option<int?>("--epochs") { Description = "train through this epoch (default: the spec's)", HelpName = "N" };
        epochs.Validators.Add(AtLeast(epochs, 1));
        var set = KeyValueOption("--set", "override a training value, e.g. --set lr=0.0003 (repeatable)", ", e.g. --set lr=0.0003");
        var output = new Option<string>("--out") { Description = "where checkpoints go (default ./.aunce/train)", HelpName = "DIR" };
        var resume = new Option<bool>("--resume") { Description = "continue from the newest sound checkpoint of each fold" };
        var command = new Command("train", "train one configuration (the spec's training values, --set overrides) on its folds; a checkpoint per epoch and a per-AU table")
        {
            spec, fold, epochs, set, output, resume,
        };
        command.SetAction((parse, ct) => Task.FromResult(TrainCommand.Run(parse.GetValue(spec)!, new TrainOptions(
            parse.GetValue(fold),
            parse.GetValue(epochs),
            Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(".aunce", "train")),
            parse.GetValue(resume),
            (parse.GetValue(set) ?? []).Select(kv => kv.Split('=', 2)).GroupBy(kv => kv[0], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal)),
            stdout, stderr, ct)));
        return command;
    }

    private static Command Ablation(TextWriter stdout, TextWriter stderr)
    {
        var spec = SpecArgument();
        var seeds = new Option<int>("--seeds") { Description = "seeds per configuration (default 3)", HelpName = "N", DefaultValueFactory = _ => 3 };
        seeds.Validators.Add(r =>
        {
            if (Value<int>(r) < 2)
            {
                r.AddError("--seeds must be an integer >= 2 (a confidence interval needs two values)");
            }
        });
        var tables = new Option<string>("--tables") { Description = "which tables (default VI,VII,VIII)", HelpName = "VI,VII,VIII" };
        tables.Validators.Add(r =>
        {
            var wanted = (Value<string>(r) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (wanted.Length == 0 || wanted.Any(t => t.ToUpperInvariant() is not ("VI" or "VII" or "VIII")))
            {
                r.AddError("--tables takes a comma-separated list of VI, VII, VIII");
            }
        });
        var output = new Option<string>("--out") { Description = "where tables.txt, results.json and the plot go", HelpName = "DIR" };
        var run = RunSymbols.Create();
        var command = new Command("ablation", "the AUNCE paper's ablation (Tables VI, VII, VIII) on the spec's dataset, model and budget: mean F1 with 95 % CIs over seeds")
        {
            spec, seeds, tables, output,
        };
        run.AddTo(command);
        command.SetAction((parse, ct) => AblationCommand.RunAsync(parse.GetValue(spec)!, parse.GetValue(seeds),
            (parse.GetValue(tables) ?? "VI,VII,VIII").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            parse.GetValue(output) is { } o ? Path.GetFullPath(o) : null, run.Read(parse), stdout, stderr, ct));
        return command;
    }

    private static Command Scheduler(TextWriter stdout, TextWriter stderr)
    {
        var trace = new Argument<string>("TRACE") { Description = "a pruner trace (aunce-pruner-trace/1, e.g. from Optuna)" };
        var check = new Option<bool>("--check") { Description = "compare with the trace's decisions; exit 1 on any mismatch" };
        var explain = new Option<bool>("--explain") { Description = "print each decision's evidence" };
        var replay = new Command("replay", "feed a pruner trace to the equivalent AunceSearch pruner; one JSON decision per report") { trace, check, explain };
        replay.SetAction(parse => SchedulerReplay.Run(parse.GetValue(trace)!, parse.GetValue(check), parse.GetValue(explain), stdout, stderr));
        return new Command("scheduler", "pruner traces") { replay };
    }

    private static Command Loss(TextWriter stdout, TextWriter stderr)
    {
        var vectors = new Option<string>("--vectors") { Description = "a reference-vectors file", HelpName = "FILE", Required = true };
        var check = new Command("check", "check the AUNCE loss (and WCE, metrics) against reference vectors; exit 1 on any miss") { vectors };
        check.SetAction(parse => LossCheck.Run(parse.GetValue(vectors)!, stdout, stderr));
        return new Command("loss", "the AUNCE loss") { check };
    }

    private static Command Data(TextWriter stdout)
    {
        var dir = new Argument<string>("DIR") { Description = "a new or empty directory" };
        var subjects = IntOption("--subjects", 2, "subjects");
        var images = IntOption("--images", 1, "images per subject");
        var size = IntOption("--size", 32, "image size in pixels");
        var folds = IntOption("--folds", 2, "subject-exclusive folds");
        var seed = IntOption("--seed", 0, "generator seed");
        var noise = new Option<double?>("--noise") { Description = "label noise probability in [0, 0.5)", HelpName = "P" };
        noise.Validators.Add(r =>
        {
            if (Value<double?>(r) is { } p && p is not (>= 0 and < 0.5))
            {
                r.AddError("--noise must be a probability in [0, 0.5)");
            }
        });
        var synth = new Command("synth", "write a synthetic AU-face dataset in the AUNCE list layout") { dir, subjects, images, size, folds, seed, noise };
        synth.SetAction(parse =>
        {
            var o = new SyntheticOptions();
            o = o with
            {
                Subjects = parse.GetValue(subjects) ?? o.Subjects,
                ImagesPerSubject = parse.GetValue(images) ?? o.ImagesPerSubject,
                ImageSize = parse.GetValue(size) ?? o.ImageSize,
                Folds = parse.GetValue(folds) ?? o.Folds,
                Seed = parse.GetValue(seed) ?? o.Seed,
                LabelNoise = parse.GetValue(noise) ?? o.LabelNoise,
            };
            return CliApp.Synthesize(parse.GetValue(dir)!, o, stdout);
        });
        return new Command("data", "datasets") { synth };
    }

    private static Command Serve(TextWriter stdout)
    {
        var port = new Option<int>("--port") { Description = "the loopback port of the HTTP API (default 8080)", HelpName = "P", DefaultValueFactory = _ => 8080 };
        port.Validators.Add(r =>
        {
            if (Value<int>(r) is < 1 or > 65535)
            {
                r.AddError("--port must be between 1 and 65535");
            }
        });
        var config = KeyValueOption("--config", "set a configuration value, e.g. Aunce:Api:Token=... (repeatable)", "");
        var verbose = new Option<bool>("--verbose", "-v") { Description = "also print silo and request logs (stderr)" };
        var command = new Command("serve", "serve the HTTP API (sweeps, trials, live events, checkpoint downloads) on loopback, with an embedded silo that this folder's sweep commands submit to")
        {
            port, config, verbose,
        };
        command.SetAction((parse, ct) => ServeCommand.RunAsync(
            parse.GetValue(port),
            ConfigValues(parse, config),
            parse.GetValue(verbose), stdout, ct));
        return command;
    }

    private static Command Silo(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("silo", "run a silo host (a cluster member), configured by Aunce__* environment variables")
        {
            TreatUnmatchedTokensAsErrors = false,   // host arguments (e.g. --Aunce:Silo:SiloPort=11112) go to the host's configuration
        };
        command.SetAction((parse, ct) => SiloHost.RunAsync([.. parse.UnmatchedTokens], ct));

        var address = new Argument<string>("ADDRESS") { Description = "the silo: its name, IP:PORT, or full Orleans address (as the Orleans dashboard shows them)" };
        var run = RunSymbols.Create();
        var drain = new Command("drain", "drain one silo of a cluster (Aunce:Cluster:Redis) as on SIGTERM: its folds stop at the next step and resume on other trainers; waits until it has left") { address };
        run.AddTo(drain);
        drain.SetAction((parse, ct) => new SweepRunner(stdout, stderr, run.Read(parse)).DrainSiloAsync(parse.GetValue(address)!, ct));
        command.Subcommands.Add(drain);
        return command;
    }

    private static Command Cluster(TextWriter stdout)
    {
        var dir = new Argument<string>("DIR") { Description = "where to write ca.pem, ca.key, silo.pem, silo.key, client.pem and client.key (created if missing; existing files are never replaced)" };
        var name = new Option<string>("--name") { Description = "the cluster's name in the certificates' subjects (default aunce)", HelpName = "NAME", DefaultValueFactory = _ => "aunce" };
        var days = new Option<int>("--days") { Description = "how long the certificates are valid (default 365)", HelpName = "N", DefaultValueFactory = _ => 365 };
        days.Validators.Add(r =>
        {
            if (Value<int>(r) is < 1 or > 3650)
            {
                r.AddError("--days must be between 1 and 3650");
            }
        });
        var san = new Option<string[]>("--san") { Description = "an extra DNS name or IP address for the silo certificate (repeatable)", HelpName = "NAME", Arity = ArgumentArity.OneOrMore };
        var certs = new Command("certs", "write a development CA and mutual-TLS certificates for a cluster's silos and clients (see SECURITY.md for your own PKI)") { dir, name, days, san };
        certs.SetAction(parse => ClusterCommand.Certs(parse.GetValue(dir)!, parse.GetValue(name)!, parse.GetValue(days), parse.GetValue(san) ?? [], stdout));
        return new Command("cluster", "a cluster's security set-up") { certs };
    }

    /// <summary>The option's value, or default when it does not convert (the parser reports that error itself).</summary>
    private static T? Value<T>(OptionResult r)
    {
        try
        {
            return r.GetValueOrDefault<T>();
        }
        catch (InvalidOperationException)
        {
            return default;
        }
    }

    /// <summary>Settings to reach a sweep's record beyond those its journal kept (a cluster's certificates, a password given by name).</summary>
    private static Option<string[]> RecordConfigOption() =>
        KeyValueOption("--config", "a setting to reach the sweep's record, e.g. Aunce:Tls:CertificatePath=... (repeatable)", "");

    private static Option<string> JournalOption() =>
        new("--journal") { Description = "where sweep journals are (default ./.aunce/sweeps)", HelpName = "DIR" };

    private static string JournalRoot(ParseResult parse, Option<string> journal) =>
        Path.GetFullPath(parse.GetValue(journal) ?? Path.Combine(Directory.GetCurrentDirectory(), ".aunce", "sweeps"));

    private static Argument<string> SpecArgument() => new("SPEC") { Description = "a sweep spec (YAML)" };

    private static Option<int?> IntOption(string name, int min, string what)
    {
        var option = new Option<int?>(name) { Description = $"{what} (>= {min})", HelpName = "N" };
        option.Validators.Add(AtLeast(option, min));
        return option;
    }

    private static Action<OptionResult> AtLeast(Option<int?> option, int min) => r =>
    {
        if (Value<int?>(r) is { } v && v < min)
        {
            r.AddError($"{option.Name} must be an integer >= {min}");
        }
    };

    /// <summary>A --config option's KEY=VALUE pairs (keys case-insensitive, as configuration keys are; the last of a key wins).</summary>
    private static Dictionary<string, string?> ConfigValues(ParseResult parse, Option<string[]> option) =>
        (parse.GetValue(option) ?? []).Select(kv => kv.Split('=', 2)).GroupBy(kv => kv[0], StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => (string?)g.Last()[1], StringComparer.OrdinalIgnoreCase);

    private static Option<string[]> KeyValueOption(string name, string description, string example)
    {
        var option = new Option<string[]>(name)
        {
            Description = description,
            HelpName = "KEY=VALUE",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        option.Validators.Add(KeyValues(name, example));
        return option;
    }

    private static Action<OptionResult> KeyValues(string name, string example) => r =>
    {
        foreach (var text in Value<string[]>(r) ?? [])
        {
            if (text.IndexOf('=', StringComparison.Ordinal) <= 0)
            {
                r.AddError($"{name} '{text}' must be KEY=VALUE{example}");
            }
        }
    };
}
