using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using AunceSearch.Coordination;
using AunceSearch.Grains;
using AunceSearch.Hosting;
using AunceSearch.Spec;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace AunceSearch.Cli;

/// <summary>
/// Runs one sweep on an embedded silo (localhost clustering, in-memory grain storage and a local checkpoint
/// directory unless configured otherwise), prints live progress, a leaderboard, and as its last line
/// <c>best: trial=&lt;n&gt; f1=&lt;fold-mean F1&gt; checkpoint=&lt;path or URI&gt;</c>.
/// </summary>
public sealed class SweepRunner(TextWriter stdout, TextWriter stderr, RunOptions options)
{
    /// <summary>The sweep's final status once <see cref="RunAsync"/> has returned (null if it never started).</summary>
    public SweepStatus? FinalStatus { get; private set; }

    private readonly ClusterCalls _calls = new(stderr);

    public async Task<int> RunAsync(string yaml, string specFile, string baseDirectory, CancellationToken cancellationToken)
    {
        var spec = SweepSpecLoader.Parse(yaml, specFile, baseDirectory);
        DatasetPreparation.Check(spec, generateIfMissing: true, stdout, specFile);

        // The embedded silo's defaults: local checkpoints and grain state under ./.aunce, so the sweep survives this process.
        var cwd = Directory.GetCurrentDirectory();
        var config = WithOverrides(new Dictionary<string, string?>
        {
            ["Aunce:Checkpoints:Path"] = Path.Combine(cwd, ".aunce", "checkpoints"),
            ["Aunce:Silo:GrainStorage"] = "file",
            ["Aunce:Silo:StatePath"] = Path.Combine(cwd, ".aunce", "state"),
        });

        var builder = CreateBuilder(config);
        var settings = AunceConfiguration.Read(builder.Configuration);
        if (UseClient(builder, settings))
        {
            // Submitted to a cluster (or this folder's aunce serve): the store, the devices and the trainers are the
            // silos' own; only the journal is here.
            if (CheckpointStoreProbe.WritableDirectory("--journal", options.JournalDirectory) is { } unwritable)
            {
                throw new PreflightException($"sweep journal: {unwritable}");
            }
        }
        else
        {
            if (options.Detach)
            {
                throw new UsageException("--detach needs a cluster to submit to (Aunce:Cluster:Redis); an embedded silo ends with this process");
            }

            await Preflight.CheckAsync(spec, settings, options.JournalDirectory, cancellationToken, stderr);
        }

        // The journal is claimed after every check and before the silo starts, atomically: a taken id fails here, and a
        // run refused for bad input leaves no journal behind. It keeps the settings, so `sweep resume` finds the same state.
        var (sweepId, journal) = options.Id is { } id
            ? (id, SweepJournal.Create(options.JournalDirectory, id, yaml))
            : SweepJournal.CreateUnique(options.JournalDirectory, spec.Name, DateTime.UtcNow, yaml);
        if (journal.WriteSettings(config) is { Count: > 0 } secrets)
        {
            await stderr.WriteLineAsync($"note: {string.Join(", ", secrets)} not kept in the sweep's journal (secrets are never written); " +
                                        "give them again (environment Aunce__…, or --config) to resume it or download from it");
        }

        return await HostAndFollowAsync(builder, settings, spec, sweepId, journal, 0, async sweep =>
        {
            await stdout.WriteLineAsync($"sweep {sweepId}: {spec.Search.Trials} trials x {spec.Folds.Length} folds x up to {spec.Training.Epochs} epochs, " +
                                        $"scheduler {spec.Search.Scheduler.Create(spec.Training.Epochs, spec.Search.Direction, sweepId, spec.Search.Space.ToSpace(), spec.Seed).Name}, metric {spec.Search.Metric.ToString().ToLowerInvariant()} ({(spec.Search.Direction == Model.Direction.Maximize ? "max" : "min")})");
            await sweep.StartAsync(spec);
        }, cancellationToken);
    }

    /// <summary>
    /// <c>aunce sweep resume ID</c>: the sweep's journal gives its spec, settings and the events already seen; an embedded
    /// silo on the same grain state reactivates the sweep, whose interrupted trials continue from their checkpoints.
    /// </summary>
    public async Task<int> ResumeAsync(string sweepId, CancellationToken cancellationToken)
    {
        var (journal, yaml, saved, seen) = SweepJournal.Open(options.JournalDirectory, sweepId);
        if (journal.Warning is { } warning)
        {
            await stderr.WriteLineAsync($"warning: {warning}");
        }

        var specFile = Path.Combine(journal.Directory, "spec.yaml");
        var config = WithOverrides(saved);

        var builder = CreateBuilder(config);
        var settings = AunceConfiguration.Read(builder.Configuration);
        if (!UseClient(builder, settings) && settings.Silo.GrainStorage == "memory")
        {
            throw new UsageException($"sweep '{sweepId}' kept its state in memory (Aunce:Silo:GrainStorage=memory), so it ended with its process and cannot be resumed");
        }

        return await HostAndFollowAsync(builder, settings, null, sweepId, journal, seen, async sweep =>
        {
            SweepStatus status;
            try
            {
                status = await _calls.RunAsync(sweep.ResumeAsync);
            }
            catch (KeyNotFoundException)
            {
                throw new UsageException($"sweep '{sweepId}': its journal is at {journal.Directory} but its state is not in {settings.Silo.StatePath} (moved or deleted?)");
            }

            await stdout.WriteLineAsync($"sweep {sweepId} resumed ({status.State.ToString().ToLowerInvariant()}): " +
                                        $"{status.Trials.Count(t => t.State == TrialState.Running)} trial(s) running, {status.Trials.Length} of {status.TotalTrials} started");
        }, cancellationToken, yaml, specFile);
    }

    /// <summary>
    /// <c>aunce silo drain ADDRESS</c>: asks one silo of the cluster (named by its silo name, IP:PORT or full address) to
    /// drain as on SIGTERM, over Orleans' control channel, and waits until it has left membership. Its folds stop at the next
    /// step and resume on other trainers from their last stored epoch; nothing counts as a failure.
    /// </summary>
    public async Task<int> DrainSiloAsync(string address, CancellationToken cancellationToken)
    {
        var builder = CreateBuilder(WithOverrides(new Dictionary<string, string?>()));
        var settings = AunceConfiguration.Read(builder.Configuration);
        if (!settings.Cluster.IsSet)
        {
            throw new UsageException("silo drain: no cluster given; set Aunce:Cluster:Redis (--config Aunce:Cluster:Redis=HOST:PORT, or Aunce__Cluster__Redis)");
        }

        ClusterConnection.UseCluster(builder, settings.Cluster, settings.Tls);
        using var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw ClusterConnection.Unreachable(settings, e);
        }

        try
        {
            var management = host.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
            var active = await management.GetDetailedHosts(onlyActive: true);
            var matches = active.Where(h => h.SiloName == address || h.SiloAddress.ToParsableString() == address || h.SiloAddress.ToString() == address ||
                                            h.SiloAddress.Endpoint.ToString() == address).ToList();
            if (matches.Count != 1)
            {
                throw new UsageException($"silo drain: '{address}' names {(matches.Count == 0 ? "no active silo" : $"{matches.Count} silos")} of cluster " +
                                         $"'{settings.Cluster.ClusterId}'; its active silos: " +
                                         string.Join(", ", active.OrderBy(h => h.SiloName, StringComparer.Ordinal).Select(h => $"{h.SiloName} ({h.SiloAddress.Endpoint})")));
            }

            var target = matches[0];
            var watch = Stopwatch.StartNew();
            await management.SendControlCommandToProvider<SiloDrain>(SiloDrain.ProviderName, SiloDrain.DrainCommand, target.SiloAddress.ToParsableString());
            await stdout.WriteLineAsync($"draining silo {target.SiloName} ({target.SiloAddress.Endpoint}): its folds stop at the next step and resume on other trainers");
            while ((await management.GetDetailedHosts(onlyActive: true)).Any(h => h.SiloAddress.Equals(target.SiloAddress)))
            {
                if (watch.Elapsed > TimeSpan.FromMinutes(2))
                {
                    throw new TimeoutException($"silo {target.SiloName} ({target.SiloAddress.Endpoint}) is still active 2 minutes after the drain request");
                }

                await Task.Delay(250, cancellationToken);
            }

            await stdout.WriteLineAsync($"silo {target.SiloName} left the cluster {watch.Elapsed.TotalSeconds:0.0} s after the request");
            return ExitCodes.Ok;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>The local server a command of this folder submits to (set by <see cref="UseClient"/>).</summary>
    private LocalServer? _server;

    /// <summary>
    /// Makes the host an Orleans client when there is something to submit to — a cluster (<c>Aunce:Cluster:Redis</c>), or
    /// this folder's running <c>aunce serve</c> — and says whether it did; otherwise the command hosts its own silo.
    /// </summary>
    private bool UseClient(HostApplicationBuilder builder, AunceSettings settings)
    {
        if (settings.Cluster.IsSet)
        {
            ClusterConnection.UseCluster(builder, settings.Cluster, settings.Tls);
            return true;
        }

        _server = LocalServer.Find(Directory.GetCurrentDirectory());
        if (_server is not { } server)
        {
            return false;
        }

        server.UseAsClient(builder);
        return true;
    }

    /// <summary>
    /// <c>aunce sweep cancel ID</c>: on a cluster, through the client; embedded, by asking the process that follows the sweep
    /// (it cancels within a second), or — when no process does (it was killed) — by cancelling the stored sweep directly.
    /// Waits until the sweep's state is cancelled and says so.
    /// </summary>
    public async Task<int> CancelAsync(string sweepId, CancellationToken cancellationToken)
    {
        var (journal, yaml, saved, _) = SweepJournal.Open(options.JournalDirectory, sweepId);
        var config = WithOverrides(saved);

        var builder = CreateBuilder(config);
        var settings = AunceConfiguration.Read(builder.Configuration);
        if (!settings.Cluster.IsSet && journal.Owner() is { } owner)
        {
            // Its process hosts the sweep (the embedded silo): asked through the journal, it cancels the sweep and exits (its
            // follower ends with the sweep). Its exit is waited on, then the sweep's record (the state files) read once.
            journal.RequestCancel();
            using (var process = OwnerProcess(owner))
            {
                try
                {
                    await (process?.WaitForExitAsync(cancellationToken) ?? Task.CompletedTask).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
                }
                catch (TimeoutException)
                {
                    // still running after 30 s: the record says whether it cancelled
                }
            }

            await using var records = new SweepRecords(options.JournalDirectory, [.. options.Config], stderr);
            if ((await records.TryReadAsync(sweepId, config, cancellationToken)).Status?.State is SweepState.Cancelled or SweepState.Completed or SweepState.Failed)
            {
                await stdout.WriteLineAsync($"sweep {sweepId} cancelled by its process {owner} (aunce sweep resume {sweepId} continues it)");
                return ExitCodes.Ok;
            }

            throw new PreflightException($"sweep '{sweepId}': process {owner} did not cancel it within 30 s");
        }

        if (!UseClient(builder, settings))
        {
            builder.AddAunceSilo();
        }

        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        try
        {
            var sweep = host.Services.GetRequiredService<IGrainFactory>().GetGrain<ISweepGrain>(sweepId);
            await sweep.CancelAsync();
            var status = await sweep.GetStatusAsync();
            await stdout.WriteLineAsync($"sweep {sweepId}: {status.State.ToString().ToLowerInvariant()}" +
                                        (status.State == SweepState.Cancelled ? $" (aunce sweep resume {sweepId} continues it)" : ""));
            return ExitCodes.Ok;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>The process <paramref name="pid"/>, or null when it is gone already.</summary>
    private static Process? OwnerProcess(int pid)
    {
        try
        {
            return Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The settings a sweep runs with: <paramref name="baseline"/> (defaults, or what the journal kept) with this command's --config on top.</summary>
    private Dictionary<string, string?> WithOverrides(IReadOnlyDictionary<string, string?> baseline)
    {
        var config = new Dictionary<string, string?>(baseline, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in options.Config)
        {
            config[key] = value;
        }

        return config;
    }

    private HostApplicationBuilder CreateBuilder(IReadOnlyDictionary<string, string?> config)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "aunce" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Aunce:Silo:SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["Aunce:Silo:GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
        });
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(options.Verbose ? LogLevel.Information : LogLevel.Warning);
        if (!options.Verbose)
        {
            // Without -v: AunceSearch's warnings (a damaged checkpoint passed over, a retried fold), one line each; failures
            // arrive as sweep events with their reasons, and stack traces only with -v.
            builder.Logging.AddFilter((category, level) => level == LogLevel.Warning && category?.StartsWith("AunceSearch", StringComparison.Ordinal) == true);
        }

        return builder;
    }

    /// <summary>Starts the silo, runs <paramref name="begin"/>, then follows the sweep's events into the journal until it ends.</summary>
    private async Task<int> HostAndFollowAsync(HostApplicationBuilder builder, AunceSettings settings, SweepDefinition? spec, string sweepId, SweepJournal journal,
        long seen, Func<ISweepGrain, Task> begin, CancellationToken cancellationToken, string? yaml = null, string? specFile = null)
    {
        var client = settings.Cluster.IsSet || _server is not null;
        if (!client)
        {
            builder.AddAunceSilo();
        }

        // One follower per sweep, checked before anything starts: a second one is refused at once.
        using var claim = options.Detach ? null : journal.Claim(sweepId);
        using var host = builder.Build();
        var watch = Stopwatch.StartNew();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception e) when (_server is not null && e is not OperationCanceledException)
        {
            throw _server.Unreachable(e);
        }
        catch (Exception e) when (client && e is not OperationCanceledException)
        {
            throw ClusterConnection.Unreachable(settings, e);
        }

        if (_server is not null)
        {
            await stdout.WriteLineAsync($"submitting to this folder's aunce serve (pid {_server.Pid}); watch it at {_server.Url}/api/sweeps/{sweepId}");
        }

        var exit = ExitCodes.Failed;
        try
        {
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            var sweep = grains.GetGrain<ISweepGrain>(sweepId);
            var follower = new SweepFollower(sweep, journal, grains, _calls, stderr);
            await begin(sweep);
            if (client && options.Detach)
            {
                await stdout.WriteLineAsync($"sweep {sweepId} runs on {(_server is null ? $"cluster '{settings.Cluster.ClusterId}'" : $"this folder's aunce serve (pid {_server.Pid})")}; " +
                                            $"follow it with: aunce sweep resume {sweepId} --journal {options.JournalDirectory}");
                return ExitCodes.Ok;
            }

            // Ctrl-C / SIGTERM: cancel the sweep (the default), or detach — stop following and leave it running (on a cluster it
            // runs on; embedded, the silo stops, its folds stop at a step boundary, and `sweep resume` continues it).
            using var cancelRegistration = options.DetachOnInterrupt ? default : cancellationToken.Register(() => _ = sweep.CancelAsync());
            var detachOn = options.DetachOnInterrupt ? cancellationToken : CancellationToken.None;
            spec ??= SweepSpecLoader.Parse(yaml!, specFile!, Path.GetDirectoryName(specFile!)!);
            SweepStatus status;
            if (LiveProgress.Usable(stdout, options.Plain))
            {
                var recent = new Queue<SweepEvent>();
                var parameters = spec.Search.Space.ToSpace().ParameterNames.ToList();
                Stopwatch? drawn = null;
                status = await AnsiConsole.Live(new Text($"sweep {sweepId}: starting")).AutoClear(false).StartAsync(ctx =>
                    follower.FollowAsync(seen, detachOn, async (events, overview) =>
                    {
                        foreach (var e in events)
                        {
                            recent.Enqueue(e);
                            if (recent.Count > 8)
                            {
                                recent.Dequeue();
                            }
                        }

                        // Redrawn at most once a second, or when the sweep ends; two trial pages, not every trial.
                        if (overview is null || (drawn?.Elapsed < TimeSpan.FromSeconds(1) && overview.State is SweepState.Running or SweepState.Pending))
                        {
                            return;
                        }

                        var (runningQuery, bestQuery) = LiveProgress.Queries(overview);
                        var running = await _calls.RunAsync(() => sweep.GetTrialsAsync(runningQuery));
                        var best = await _calls.RunAsync(() => sweep.GetTrialsAsync(bestQuery));
                        ctx.UpdateTarget(LiveProgress.Render(new LiveView(overview, running, best), [.. recent], watch.Elapsed, parameters));
                        drawn = Stopwatch.StartNew();
                    }));
            }
            else
            {
                status = await follower.FollowAsync(seen, detachOn, async (events, _) =>
                {
                    foreach (var e in events)
                    {
                        await stdout.WriteLineAsync($"[{watch.Elapsed.TotalSeconds,7:0.0}s] {e.Message}");
                    }
                });
            }

            FinalStatus = status;
            if (detachOn.IsCancellationRequested && status.State == SweepState.Running)
            {
                await stderr.WriteLineAsync($"interrupted: detached from sweep {sweepId} ({status.Trials.Count(t => t.State == TrialState.Running)} trial(s) running" +
                                            (client ? $" on cluster '{settings.Cluster.ClusterId}')" : "; they stop at the next step, stored epochs are kept)") +
                                            $"; aunce sweep resume {sweepId} --journal {options.JournalDirectory} continues it");
                return ExitCodes.Failed;
            }

            await stdout.WriteLineAsync();
            Leaderboard.Write(stdout, spec, status);
            await stdout.WriteLineAsync($"journal: {journal.Directory} (aunce sweep explain {sweepId} TRIAL)");
            await stdout.WriteLineAsync($"wall time {watch.Elapsed.TotalSeconds:0.0} s; {status.Trials.Count(t => t.State == TrialState.Pruned)} pruned, " +
                                        $"{status.Trials.Count(t => t.State == TrialState.Completed)} completed, {status.Trials.Count(t => t.State == TrialState.Failed)} failed");
            var best = status.Trials.FirstOrDefault(t => t.Trial == status.BestTrial);
            if (status.State == SweepState.Completed && best is not null)
            {
                await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"best: trial={best.Trial} {status.Metric}={best.LastValue:0.0000} checkpoint={best.LastCheckpoints[0]}"));
                exit = ExitCodes.Ok;
            }
            else
            {
                await stderr.WriteLineAsync($"error: sweep {status.State.ToString().ToLowerInvariant()}{(status.Error is null ? "" : ": " + status.Error)}" +
                                            (status.State == SweepState.Cancelled ? $" (aunce sweep resume {sweepId} continues it)" : ""));
            }
        }
        catch (Exception e) when (Checkpoints.DurableFile.IsDiskFull(e))
        {
            // Every write is atomic (temporary file, rename): what was stored before is intact, and the sweep continues from it.
            throw new DiskFullException($"no space left on device ({e.Message.Split('\n')[0]}); nothing already stored is lost: free space " +
                                        $"(or keep fewer checkpoints), then continue with: aunce sweep resume {sweepId} --journal {options.JournalDirectory}", e);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }

        return exit;
    }

    /// <summary>A loopback port free right now (the silo and gateway ports of an embedded silo).</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
