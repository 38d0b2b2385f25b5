using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AunceSearch.Bench.Synthetic;
using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using AunceSearch.Model;
using AunceSearch.Spec;
using AunceSearch.Training;
using AunceSearch.Training.Data;
using AunceSearch.Training.Loss;
using AunceSearch.Training.Models;
using AunceSearch.Training.Optim;
using AunceSearch.Training.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

// aunce-capacity-bench data DIR [--size 256] [--folds 3]              peak RSS of a 3-fold trainer over the decoded dataset
// aunce-capacity-bench stream DIR [--size 256] [--crop 224] [--images 1024] [--batch 64]
//                                                                      streamed decode + two enhance views per CPU-second
// aunce-capacity-bench checkpoint [--encoder resnet50] [--dim 512] [--store DIR]
//                                                                      a checkpoint's write and read: time and peak extra memory
// aunce-capacity-bench coordinator-write STATE --trials N              a finished synthetic sweep into file grain storage
// aunce-capacity-bench coordinator-reactivate STATE --trials N         its first activation in a fresh silo: time, RSS
// Every measurement is one JSON line {"measure": NAME, "value": X, "unit": U, ...}. Memory is read from /proc/self/status
// (VmRSS now, VmHWM the peak; writing 5 to /proc/self/clear_refs resets the peak), so each measurement runs in a process
// of its own (bench/capacity/run.sh).
var options = new BenchArgs(args);
string O(string k, string d) => options.Get(k, d);
int I(string k, int d) => options.Int(k, d);

switch (args.FirstOrDefault())
{
    case "data" when args.Length >= 2:
        Data(args[1]);
        return 0;
    case "stream" when args.Length >= 2:
        Stream(args[1]);
        return 0;
    case "checkpoint":
        await CheckpointAsync();
        return 0;
    case "coordinator-write" when args.Length >= 2:
        await CoordinatorWriteAsync(args[1], I("--trials", 10_000));
        return 0;
    case "coordinator-reactivate" when args.Length >= 2:
        await CoordinatorReactivateAsync(args[1], I("--trials", 10_000));
        return 0;
    default:
        Console.Error.WriteLine("usage: aunce-capacity-bench data DIR | stream DIR | checkpoint | coordinator-write STATE --trials N | coordinator-reactivate STATE --trials N");
        return 2;
}

// A 3-fold sweep's trainer: every fold open at once (three trials training), one pass over each fold's training batches.
void Data(string root)
{
    var size = I("--size", 256);
    var folds = I("--folds", 3);
    TorchRuntime.EnsureInitialized();
    TorchRuntime.SetThreads(1);
    Settle();
    var before = Memory.Rss;
    Memory.ResetPeak();
    var watch = Stopwatch.StartNew();
    var leases = Enumerable.Range(1, folds).Select(f => AuFoldData.Open(new DatasetSource { Root = root, ListName = "SYN", Fold = f, ImageSize = size })).ToList();
    var opened = watch.Elapsed.TotalSeconds;
    var peakOpen = Memory.Peak;
    var heapOpen = GC.GetGCMemoryInfo().HeapSizeBytes;
    foreach (var lease in leases)
    {
        var order = Enumerable.Range(0, (int)lease.Data.TrainImages.Count).Select(i => (long)i).ToArray();
        var n = 0;
        foreach (var b in lease.Data.TrainImages.Batches(order, 64, CancellationToken.None))
        {
            b.Images.Dispose();
            b.Labels.Dispose();
            if (Environment.GetEnvironmentVariable("CAPACITY_TRACE") == "1" && ++n % 20 == 0)
            {
                Console.Error.WriteLine($"batch {n}: rss {Memory.Rss / 1e6:0} MB, gc heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1e6:0} MB, total alloc {GC.GetTotalAllocatedBytes() / 1e6:0} MB");
            }
        }
    }

    var peak = Memory.Peak;
    var store = DecodedImageStore.Shared;
    var inMemory = leases.All(l => l.Data.TrainImages.InMemory);
    Emit("data_peak_rss_per_dataset", (double)(peak - before) / store.Bytes, "ratio",
        ("folds", folds), ("images", store.Count), ("decoded_bytes", store.Bytes), ("rss_before_bytes", before), ("peak_rss_bytes", peak),
        ("decodes", store.Decoded), ("in_memory", inMemory), ("image_size", size), ("budget_bytes", store.BudgetBytes),
        ("peak_rss_after_open_bytes", peakOpen), ("gc_heap_after_open_bytes", heapOpen), ("gc_heap_end_bytes", GC.GetGCMemoryInfo().HeapSizeBytes),
        ("malloc", TorchRuntime.MallocTuning));
    Emit("data_open_3_folds_s", opened, "s", ("images", store.Count), ("cores", Environment.ProcessorCount));
    foreach (var lease in leases)
    {
        lease.Dispose();
    }
}

// Streaming as a trainer whose data does not fit: decode a batch on one worker thread while the training thread takes both
// enhance views of the last one (libtorch on one thread). Per core = images per second of CPU time the process used.
void Stream(string root)
{
    var size = I("--size", 256);
    var crop = I("--crop", 224);
    var count = I("--images", 1024);
    var batch = I("--batch", 64);
    TorchRuntime.EnsureInitialized();
    TorchRuntime.SetThreads(1);
    var pngs = Directory.GetFiles(root, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(count).ToList();
    var jpegDir = Path.Combine(Path.GetTempPath(), $"aunce-capacity-jpeg-{Environment.ProcessId}");
    Directory.CreateDirectory(jpegDir);
    try
    {
        // The same faces as JPEG (quality 90, as face-crop datasets ship), written once before timing.
        var jpegs = pngs.Select((png, i) =>
        {
            var path = Path.Combine(jpegDir, $"{i:D6}.jpg");
            using var bitmap = SKBitmap.Decode(png);
            using var file = File.Create(path);
            bitmap.Encode(file, SKEncodedImageFormat.Jpeg, 90);
            return path;
        }).ToList();
        foreach (var (format, files) in new[] { ("jpeg", jpegs), ("png", pngs) })
        {
            var split = new AuSplit(files, new float[files.Count, 1], [.. files.Select(_ => "s")], ["AU1"]);
            var order = Enumerable.Range(0, files.Count).Select(i => (long)i).ToArray();
            var decodeOnly = Measure(() =>
            {
                foreach (var b in AuSplitImages.Streaming(split, size, workers: 1, prefetch: 4).Batches(order, batch, CancellationToken.None))
                {
                    b.Images.Dispose();
                    b.Labels.Dispose();
                }
            });
            var augmenter = new TwoViewAugmenter(new AugmentOptions(), crop);
            using var generator = new torch.Generator(1);
            var withViews = Measure(() =>
            {
                foreach (var b in AuSplitImages.Streaming(split, size, workers: 1, prefetch: 4).Batches(order, batch, CancellationToken.None))
                {
                    using var scope = torch.NewDisposeScope();
                    using var pixels = b.Images;
                    using var labels = b.Labels;
                    augmenter.View(pixels, generator);
                    augmenter.View(pixels, generator);
                }
            });
            Emit($"stream_{format}_images_per_s_per_core", files.Count / withViews.Cpu, "images/s/core",
                ("images", files.Count), ("image_size", size), ("crop", crop), ("augment", "enhance, two views"), ("wall_images_per_s", files.Count / withViews.Wall),
                ("cpu_s", withViews.Cpu), ("decode_only_images_per_s_per_core", files.Count / decodeOnly.Cpu), ("cores", Environment.ProcessorCount));
        }
    }
    finally
    {
        Directory.Delete(jpegDir, recursive: true);
    }
}

// One checkpoint as a fold writes it (model + optimizer after a step, through the local store) and reads it back to resume.
// Its size does not depend on the image size, so the encoder trains one step at 32 px (Swin at 224: its windows need it).
async Task CheckpointAsync()
{
    var encoder = O("--encoder", "resnet50");
    var dim = I("--dim", 512);
    var storeRoot = O("--store", Path.Combine(Path.GetTempPath(), $"aunce-capacity-ckpt-{Environment.ProcessId}"));
    TorchRuntime.EnsureInitialized();
    TorchRuntime.SetThreads(Environment.ProcessorCount);
    var input = encoder.StartsWith("swin", StringComparison.Ordinal) ? 224 : 32;   // Swin's windows need the real size
    var options = new ModelOptions { Encoder = encoder, FeatureDim = dim, InputSize = input };
    torch.random.manual_seed(1);
    using var model = EncoderFactory.Create(options, 12);
    model.train();
    using var optimizer = new TrainingOptimizer("flat-adamw", model.parameters().ToList(), 1e-4, 1e-2);
    var loss = new AunceLossOptions();
    using (torch.NewDisposeScope())
    {
        var x = torch.randn(2, 3, input, input);
        var labels = torch.rand(2, 12).lt(0.3).to(ScalarType.Float32);
        optimizer.Step(AunceLoss.Compute(model.forward(x), model.forward(x.flip(3)), labels, loss.DrawPositiveTypes(12, new Random(1)), loss));
    }

    var header = new CheckpointHeader
    {
        Label = "capacity/t000/f1", Epoch = 1, Seed = 1, AuNames = [.. Enumerable.Range(1, 12).Select(i => $"AU{i}")], Model = options,
        Hyperparameters = new Dictionary<string, string>(),
    };
    var store = new LocalDirectoryCheckpointStore(storeRoot);
    const string key = "capacity/t000/f1/e0001.ckpt";
    try
    {
        Settle();
        var before = Memory.Rss;
        Memory.ResetPeak();
        var watch = Stopwatch.StartNew();
        var bytes = Checkpoint.Write(header, model, optimizer.Save);
        await store.SaveAsync(key, bytes);
        var writeSeconds = watch.Elapsed.TotalSeconds;
        var writePeak = Memory.Peak - before;
        var size = bytes.LongLength;
        bytes = null;
        Emit($"checkpoint_{encoder.Replace("-", "", StringComparison.Ordinal)}_peak_extra_memory_ratio", (double)writePeak / size, "ratio",
            ("checkpoint_bytes", size), ("peak_extra_bytes", writePeak), ("write_s", writeSeconds), ("parameters", model.parameters().Sum(p => p.numel())),
            ("estimate_bytes", ModelFootprint.Of(options, 12).CheckpointBytes), ("store", "local"));

        Settle();
        before = Memory.Rss;
        Memory.ResetPeak();
        watch.Restart();
        var loaded = await store.LoadAsync(key) ?? throw new InvalidOperationException("the checkpoint just written is missing");
        Checkpoint.Restore(loaded, key, model, r => optimizer.Load(r, key));   // as a resuming fold: weights and optimizer state
        var readSeconds = watch.Elapsed.TotalSeconds;
        Emit($"checkpoint_{encoder.Replace("-", "", StringComparison.Ordinal)}_read_peak_extra_memory_ratio", (double)(Memory.Peak - before) / size, "ratio",
            ("checkpoint_bytes", size), ("peak_extra_bytes", Memory.Peak - before), ("read_s", readSeconds));
    }
    finally
    {
        if (Directory.Exists(storeRoot))
        {
            Directory.Delete(storeRoot, recursive: true);
        }
    }
}

// A finished synthetic sweep (3 folds, 12 AUs per fold, 20 epochs) written through the sweep grain's own journal into file
// grain storage, as `aunce sweep run` keeps it; the largest stored record is the largest value Redis would have to hold.
async Task CoordinatorWriteAsync(string state, int trials)
{
    using var host = await SiloAsync(state);
    var root = Path.Combine(state, "data");
    Directory.CreateDirectory(root);
    var definition = SweepSpecLoader.Parse($$$"""
        name: capacity
        seed: 21
        dataset: {root: {{{root}}}, folds: [1, 2, 3], image_size: 256, crop_size: 224}
        model: {encoder: resnet50, feature_dim: 512}
        training: {epochs: 20, device: cpu}
        search:
          trials: 10
          sampler: random
          scheduler: {kind: asha, grace_period: 1, reduction_factor: 2}
          space:
            lr: {log_uniform: [1.0e-5, 1.0e-3]}
            temperature: {log_uniform: [0.03, 0.3]}
            lambda_min: {uniform: [0.8, 1.6]}
            lambda_maj: {uniform: [0.2, 1.0]}
            batch_size: {choice: [32, 64, 128]}
            positives: {simplex: [p_max, p_aug, p_mix, p_min], fixed: {p_min: 0}}
        """, "capacity.yaml", state);
    // The coordinator's own share of an activation: parsing the snapshot into a coordinator, outside any storage.
    var bytes = SyntheticSweep.Snapshot(definition, "parse-only", trials, (t, f, e) => $"parse-only/t{t}/f{f}/e{e}");
    var parse = Stopwatch.StartNew();
    var coordinator = new AunceSearch.Coordination.SweepCoordinator("parse-only", (t, f, e) => $"parse-only/t{t}/f{f}/e{e}", bytes);
    var parsed = parse.Elapsed.TotalSeconds;
    parse.Restart();
    var captured = coordinator.CaptureState();
    var capture = parse.Elapsed.TotalSeconds;
    parse.Restart();
    var again = AunceSearch.Coordination.CoordinatorSnapshot.Encode(captured);
    var encoded = parse.Elapsed.TotalSeconds;
    parse.Restart();
    var page = coordinator.Trials(new TrialQuery { Sort = TrialSort.Value, Descending = true, Limit = 50 });
    var firstPage = parse.Elapsed.TotalSeconds;
    Emit($"coordinator_{Label(trials)}_parse_s", parsed, "s", ("snapshot_bytes", bytes.Length), ("snapshot_capture_on_turn_s", capture),
        ("snapshot_encode_off_turn_s", encoded), ("snapshot_rebuilt_bytes", again.Length), ("first_trial_page_s", firstPage), ("page_rows", page.Items.Length));
    captured = null;
    bytes = again = null;
    coordinator = null;
    var watch = Stopwatch.StartNew();
    var overview = await SyntheticSweeps.WriteAsync(host.Services, definition, SweepId(trials), trials);
    var written = watch.Elapsed.TotalSeconds;
    var files = Directory.GetFiles(Path.Combine(state, "state"), "*", SearchOption.AllDirectories).Select(f => new FileInfo(f)).ToList();
    var largest = files.MaxBy(f => f.Length)!;
    Emit($"coordinator_{Label(trials)}_max_value_mb", largest.Length / 1e6, "MB",
        ("trials", overview.Started), ("records", files.Count), ("total_bytes", files.Sum(f => f.Length)), ("largest", Path.GetFileName(largest.Name)),
        ("write_and_first_activation_s", written));
    await host.StopAsync();
}

// The sweep's first activation in a silo that has never seen it (after a coordinator silo restarts): time to its first
// answer, and the silo's memory with it active.
async Task CoordinatorReactivateAsync(string state, int trials)
{
    using var host = await SiloAsync(state);
    var sweep = host.Services.GetRequiredService<IGrainFactory>().GetGrain<ISweepGrain>(SweepId(trials));
    Settle();
    var before = Memory.Rss;
    Memory.ResetPeak();
    var watch = Stopwatch.StartNew();
    var overview = await sweep.GetOverviewAsync() ?? throw new InvalidOperationException($"no sweep {SweepId(trials)} in {state}");
    var seconds = watch.Elapsed.TotalSeconds;
    var peak = Memory.Peak;
    Settle();
    var rss = Memory.Rss;
    var label = Label(trials);
    Emit($"coordinator_{label}_reactivation_s", seconds, "s", ("trials", overview.Started));
    Emit($"coordinator_{label}_rss_gib", rss / (double)(1L << 30), "GiB",
        ("trials", overview.Started), ("rss_before_activation_bytes", before), ("peak_rss_bytes", peak), ("gc_heap_bytes", GC.GetGCMemoryInfo().HeapSizeBytes));
    await host.StopAsync();
}

static string SweepId(int trials) => $"capacity-{trials}";

static string Label(int trials) => trials % 1000 == 0 ? $"{trials / 1000}k" : trials.ToString(CultureInfo.InvariantCulture);

// One embedded coordinator silo as `aunce sweep run` composes it: file grain storage under STATE/state.
static async Task<IHost> SiloAsync(string state)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Aunce:Checkpoints:Path"] = Path.Combine(state, "checkpoints"),
        ["Aunce:Silo:GrainStorage"] = "file",
        ["Aunce:Silo:StatePath"] = Path.Combine(state, "state"),
        ["Aunce:Silo:SiloPort"] = BenchArgs.FreePort().ToString(CultureInfo.InvariantCulture),
        ["Aunce:Silo:GatewayPort"] = BenchArgs.FreePort().ToString(CultureInfo.InvariantCulture),
    });
    builder.Logging.ClearProviders();
    builder.Logging.AddSimpleConsole().AddFilter((_, level) => level >= LogLevel.Error);
    builder.AddAunceSilo();
    // A 100,000-trial activation may outlast Orleans' 30 s defaults before the fixes this benchmark measures.
    builder.Services.Configure<Orleans.Configuration.SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMinutes(10));
    builder.Services.Configure<Orleans.Configuration.GrainCollectionOptions>(o => o.ActivationTimeout = TimeSpan.FromMinutes(10));
    var host = builder.Build();
    await host.StartAsync();
    return host;
}

static (double Wall, double Cpu) Measure(Action run)
{
    var process = Process.GetCurrentProcess();
    var cpu = process.TotalProcessorTime;
    var watch = Stopwatch.StartNew();
    run();
    process.Refresh();
    return (watch.Elapsed.TotalSeconds, (process.TotalProcessorTime - cpu).TotalSeconds);
}

static void Settle()
{
    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
}

static void Emit(string measure, double value, string unit, params (string Key, object Value)[] extra)
{
    using var buffer = new MemoryStream();
    using (var w = new Utf8JsonWriter(buffer))
    {
        w.WriteStartObject();
        w.WriteString("measure", measure);
        w.WriteNumber("value", Math.Round(value, 4));
        w.WriteString("unit", unit);
        foreach (var (k, v) in extra)
        {
            w.WritePropertyName(k);
            JsonSerializer.Serialize(w, v is double d ? Math.Round(d, 4) : v);
        }

        w.WriteEndObject();
    }

    Console.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
}

/// <summary>This process's memory from /proc/self/status.</summary>
internal static class Memory
{
    public static long Rss => Field("VmRSS");

    /// <summary>The peak RSS since the process started or since <see cref="ResetPeak"/>.</summary>
    public static long Peak => Field("VmHWM");

    /// <summary>Resets VmHWM to the current RSS (Linux 4.0+).</summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static long Field(string name)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(name + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(name.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/self/status has no {name}");
    }
}
