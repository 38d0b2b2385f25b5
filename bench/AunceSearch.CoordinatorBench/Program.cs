using System.Diagnostics;
using System.Globalization;
using AunceSearch.Contracts;
using AunceSearch.Grains;
using AunceSearch.Hosting;
using AunceSearch.Spec;
using AunceSearch.Training;
using AunceSearch.Training.Evaluation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

// aunce-coordinator-bench [--trials 100,1000,10000] [--epochs 4] [--concurrency 64] [--seconds 60] [--scheduler asha|none] [--flush true|false]
// Prints a table, then one JSON line per size (reports_per_s, p99_ack_ms — --direct: each fold epoch's acknowledgement,
// i.e. the time until it is durable — bytes_per_report, state_writes).
// One embedded silo exactly as `aunce sweep run` composes it (file grain storage, local checkpoint store), with the fold
// trainer replaced by a synthetic one (no torch), so what is measured is the coordination: fold grains -> trial grains ->
// the sweep grain's decisions and state writes. Per size: trial epoch reports handled per second, and the grain-state
// bytes written per report (mean and last).
// A fault nobody awaited is a defect (it found one: a fold ending a leg after a later leg had deactivated it); say so.
var unobserved = 0;
TaskScheduler.UnobservedTaskException += (_, e) =>
{
    if (Interlocked.Increment(ref unobserved) <= 3)
    {
        Console.Error.WriteLine("unobserved task exception: " + e.Exception.InnerException);
    }
};
var trialsList = Arg("--trials", "100,1000,10000").Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
var epochs = int.Parse(Arg("--epochs", "4"), CultureInfo.InvariantCulture);
var concurrency = int.Parse(Arg("--concurrency", "64"), CultureInfo.InvariantCulture);
var seconds = double.Parse(Arg("--seconds", "60"), CultureInfo.InvariantCulture);
var flush = Arg("--flush", "true") == "true";
var scheduler = Arg("--scheduler", "asha");   // asha: most reports end a leg (the rung); none: every trial reports every epoch
// --direct: the sweep grain alone. Its folds start and idle (no trainer reports); the benchmark itself sends each trial's
// fold epoch and trial epoch to the sweep grain, as trial grains do, from --concurrency tasks: what the coordinator can take.
var direct = Array.IndexOf(args, "--direct") >= 0;
if (direct)
{
    scheduler = "none";
}

var schedulerSpec = scheduler switch
{
    "asha" => "{kind: asha, variant: promotion, grace_period: 1, reduction_factor: 2}",
    "none" => "{kind: none}",
    _ => throw new ArgumentException($"--scheduler: '{scheduler}' is neither asha nor none"),
};   // false: state files are written but not flushed to disk (what the flush costs)
Console.WriteLine($"coordinator bench{(direct ? " (--direct: reports sent straight to the sweep grain)" : "")}: {Environment.ProcessorCount} cores, {epochs} epochs per trial, 1 fold, " +
                  $"{concurrency} concurrent {(direct ? "senders" : "trials")}, {(scheduler == "asha" ? "ASHA (promotion)" : "no pruning")}, " +
                  $"random sampler, at most {seconds:0} s per size");
Console.WriteLine($"{"trials",7} {"started",8} {"reports",8} {"seconds",8} {"reports/s",10} {"state writes",12} {"bytes/write mean",17} {"bytes/write last",17} {"bytes/report",13} {"p99 ack ms",11}");
var results = new List<string>();
foreach (var trials in trialsList)
{
    var r = await RunAsync(trials, epochs, concurrency, schedulerSpec, TimeSpan.FromSeconds(seconds), !flush, direct);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{trials,7} {r.Started,8} {r.Reports,8} {r.Seconds,8:0.0} {r.Reports / r.Seconds,10:0} {r.Writes,12} {r.Bytes / Math.Max(1, r.Writes),17:0} {r.LastWrite,17} {r.Bytes / Math.Max(1, r.Reports),13:0} {(double.IsNaN(r.P99AckMs) ? "-" : r.P99AckMs.ToString("0.0", CultureInfo.InvariantCulture)),11}"));
    results.Add(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["mode"] = direct ? "direct" : "end-to-end", ["scheduler"] = scheduler, ["trials"] = trials, ["reports"] = r.Reports,
        ["reports_per_s"] = Math.Round(r.Reports / r.Seconds), ["p99_ack_ms"] = double.IsNaN(r.P99AckMs) ? null : Math.Round(r.P99AckMs, 2),
        ["bytes_per_report"] = Math.Round((double)r.Bytes / Math.Max(1, r.Reports)), ["state_writes"] = r.Writes,
    }));
}

foreach (var line in results)
{
    Console.WriteLine(line);   // one JSON line per size, for scripts
}

if (unobserved > 0)
{
    Console.Error.WriteLine($"{unobserved} unobserved task exception(s)");
}

return 0;

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

static async Task<(int Started, long Reports, double Seconds, long Writes, long Bytes, long LastWrite, double P99AckMs)> RunAsync(int trials, int epochs, int concurrency, string scheduler, TimeSpan cap, bool noFlush, bool direct)
{
    var work = Path.Combine(Path.GetTempPath(), "aunce-coordinator-bench", Guid.NewGuid().ToString("N"));
    var data = Path.Combine(work, "data");
    AunceSearch.Training.Data.SyntheticAuFaces.Generate(data, new AunceSearch.Model.SyntheticOptions { Subjects = 3, ImagesPerSubject = 1, ImageSize = 32, Folds = 3 });
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Aunce:Checkpoints:Path"] = Path.Combine(work, "checkpoints"),
        ["Aunce:Silo:GrainStorage"] = "file",
        ["Aunce:Silo:StatePath"] = Path.Combine(work, "state"),
        ["Aunce:Silo:SiloPort"] = BenchArgs.FreePort().ToString(CultureInfo.InvariantCulture),
        ["Aunce:Silo:GatewayPort"] = BenchArgs.FreePort().ToString(CultureInfo.InvariantCulture),
        ["Aunce:Training:Slots"] = "1024",
    });
    builder.Logging.ClearProviders();
    var stopping = false;
    builder.Logging.AddSimpleConsole().AddFilter((_, level) => level >= LogLevel.Error && !Volatile.Read(ref stopping));   // a stalled sweep says why; shutdown noise is not shown
    builder.AddAunceSilo();
    var counter = new CountingStorage();
    builder.Services.AddGrainStorage(GrainStorageNames.Sweeps, (sp, name) =>
        counter.Wrap(new FileGrainStorage(name, Path.Combine(work, "state"), AunceSiloHosting.SweepSerializer(sp), flushToDisk: !noFlush)));   // as the shipped silo encodes sweeps
    if (direct)
    {
        builder.Services.AddSingleton<IFoldTrainingRunner, IdleTrainer>();
    }
    else
    {
        builder.Services.AddSingleton<IFoldTrainingRunner, SyntheticTrainer>();
    }

    using var host = builder.Build();
    await host.StartAsync();
    try
    {
        var spec = $$"""
            name: bench
            seed: 1
            dataset: {root: {{data}}, folds: [1], image_size: 32}
            training: {epochs: {{epochs}}, device: cpu}
            search:
              trials: {{trials}}
              max_concurrent_trials: {{(direct ? trials : concurrency)}}
              sampler: random
              scheduler: {{scheduler}}
              space: {lr: {log_uniform: [1.0e-4, 1.0e-2]}, temperature: {uniform: [0.05, 0.5]} }
            """;
        var sweep = host.Services.GetRequiredService<IGrainFactory>().GetGrain<ISweepGrain>($"bench-{trials}-{Guid.NewGuid():N}");
        if (direct)
        {
            return await DirectAsync(sweep, SweepSpecLoader.Parse(spec, "bench.yaml", work), trials, epochs, concurrency, counter, () => Volatile.Write(ref stopping, true));
        }

        var watch = Stopwatch.StartNew();
        await sweep.StartAsync(SweepSpecLoader.Parse(spec, "bench.yaml", work));
        SweepStatus status;
        do
        {
            await Task.Delay(200);
            status = await sweep.GetStatusAsync();
        }
        while (status.State == SweepState.Running && watch.Elapsed < cap);

        var elapsed = watch.Elapsed.TotalSeconds;
        var reports = status.Trials.Sum(t => (long)t.History.Length);
        if (status.State == SweepState.Running)
        {
            Console.Error.WriteLine($"  [{trials} trials] still running at the cap: " + string.Join(", ", status.Trials.Where(t => t.State is TrialState.Running)
                .Take(10).Select(t => $"t{t.Trial} at {t.LastEpoch}/{t.TargetEpoch} ({t.PendingFolds.Length} pending fold reports)")) +
                $"; {status.Trials.Count(t => t.State == TrialState.Paused)} paused");
            await sweep.CancelAsync();
        }

        Volatile.Write(ref stopping, true);

        return (status.Trials.Length, reports, elapsed, counter.Writes, counter.Bytes, counter.Last, double.NaN);   // acknowledgements are timed in --direct
    }
    finally
    {
        await host.StopAsync();
        try
        {
            Directory.Delete(work, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

// Starts every trial (their folds idle), then sends each trial's epochs — a fold epoch, then the trial epoch, as a trial
// grain does — from `senders` tasks, trials interleaved; counts the journal writes from the first report to the last.
static async Task<(int Started, long Reports, double Seconds, long Writes, long Bytes, long LastWrite, double P99AckMs)> DirectAsync(
    ISweepGrain sweep, SweepDefinition definition, int trials, int epochs, int senders, CountingStorage counter, Action stopping)
{
    var status = await sweep.StartAsync(definition);
    while (status.Trials.Length < trials)
    {
        await Task.Delay(100);
        status = await sweep.GetStatusAsync();
    }

    var (writes0, bytes0) = (counter.Writes, counter.Bytes);
    var acks = Enumerable.Range(0, senders).Select(_ => new List<double>()).ToArray();   // per sender: each fold epoch's acknowledgement (durable), ms
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, senders).Select(async sender =>
    {
        await Task.Yield();
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            for (var trial = sender; trial < trials; trial += senders)
            {
                var f1 = 0.3 + (0.01 * epoch) + (trial % 7 * 0.001);
                var fold = new FoldEpochReport(trial, 1, epoch, f1, 0.6, 1.0 / epoch, [f1, f1, f1], 0.001,
                    $"bench/t{trial:D3}/f1/e{epoch:D4}.ckpt", $"bench/t{trial:D3}/f1/e{epoch:D4}.ckpt", "bench")
                {
                    AccuracyPerAu = [0.6, 0.6, 0.6], AllActiveF1PerAu = [0.3, 0.3, 0.3], MajorityAccuracyPerAu = [0.7, 0.7, 0.7], AuNames = ["AU1", "AU2", "AU4"],
                };
                var sent = Stopwatch.GetTimestamp();
                await sweep.OnFoldEpochAsync(fold);
                acks[sender].Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                await sweep.ReportAsync(new TrialEpochReport(trial, epoch, f1, f1, 0.6, [fold]));
            }
        }
    }));
    var elapsed = watch.Elapsed.TotalSeconds;
    status = await sweep.GetStatusAsync();
    var reports = status.Trials.Sum(t => (long)t.History.Length);
    stopping();
    await sweep.CancelAsync();
    var sorted = acks.SelectMany(a => a).Order().ToArray();
    var p99 = sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(0.99 * sorted.Length) - 1)];
    return (status.Trials.Length, reports, elapsed, counter.Writes - writes0, counter.Bytes - bytes0, counter.Last, p99);
}

/// <summary>A fold "training" that takes no time: per epoch a metric from the learning rate and the epoch, and a small checkpoint.</summary>
internal sealed class SyntheticTrainer : IFoldTrainingRunner
{
    private static readonly string[] Aus = ["AU1", "AU2", "AU4"];

    public Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
    {
        var lr = double.Parse(request.Hyperparameters["lr"], CultureInfo.InvariantCulture);
        var start = request.ResumeFrom is { } resume ? Checkpoint.ReadHeader(resume, request.Label).Epoch + 1 : 1;
        for (var epoch = start; epoch <= request.Epochs; epoch++)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return Task.FromResult<(TrainingOutcome, Exception?)>((TrainingOutcome.Cancelled, null));
            }

            var f1 = 0.3 + (0.05 * epoch) - (0.02 * Math.Abs(Math.Log10(lr) + 3));
            var metrics = new AuMetrics(Aus, [f1, f1, f1], [0.6, 0.6, 0.6]);
            onEpoch(new EpochResult(epoch, 1.0 / epoch, metrics, 1, 0.001), Checkpoint.WithoutWeights(new CheckpointHeader
            {
                Label = request.Label, Epoch = epoch, Seed = request.Seed, AuNames = Aus, Model = request.Model, Hyperparameters = request.Hyperparameters,
            }));
        }

        return Task.FromResult<(TrainingOutcome, Exception?)>((TrainingOutcome.Completed, null));
    }
}

/// <summary>A trainer that never finishes an epoch: its fold idles until it is stopped (--direct sends the reports itself).</summary>
internal sealed class IdleTrainer : IFoldTrainingRunner
{
    public async Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        return (TrainingOutcome.Cancelled, null);
    }
}

/// <summary>Counts the bytes of every grain-state write (the serialized state the storage persists).</summary>
internal sealed class CountingStorage
{
    private long _writes;
    private long _bytes;
    private long _last;

    public long Writes => Interlocked.Read(ref _writes);

    public long Bytes => Interlocked.Read(ref _bytes);

    public long Last => Interlocked.Read(ref _last);

    public IGrainStorage Wrap(FileGrainStorage inner) => new Counting(inner, this);

    private sealed class Counting(FileGrainStorage inner, CountingStorage owner) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            await inner.WriteStateAsync(stateName, grainId, grainState);
            var size = inner.SizeOf(stateName, grainId);
            Interlocked.Increment(ref owner._writes);
            Interlocked.Add(ref owner._bytes, size);
            Interlocked.Exchange(ref owner._last, size);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
