using System.Diagnostics;
using System.Globalization;
using AunceSearch.Training.Data;
using AunceSearch.Training.Loss;
using AunceSearch.Training.Models;
using AunceSearch.Training.Optim;
using AunceSearch.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

// aunce-train-bench step [--encoder resnet18] [--size 112] [--batch 32] [--aus 12] [--dim 512] [--steps 20] [--warmup 5] [--optimizer flat-adamw|adamw] [--threads N]
// aunce-train-bench loader DIR [--size 112] [--batch 64]
var opts = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 1; i + 1 < args.Length; i++)
{
    if (args[i].StartsWith("--", StringComparison.Ordinal))
    {
        opts[args[i]] = args[++i];
    }
}

string O(string k, string d) => opts.TryGetValue(k, out var v) ? v : d;
int I(string k, int d) => int.Parse(O(k, d.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
TorchRuntime.EnsureInitialized();
if (opts.ContainsKey("--threads"))
{
    TorchRuntime.SetThreads(I("--threads", 1));
}

switch (args.FirstOrDefault())
{
    case "step":
        Step();
        return 0;
    case "augment":
        Augment();
        return 0;
    case "loader" when args.Length >= 2:
        Loader(args[1]);
        return 0;
    default:
        Console.Error.WriteLine("usage: aunce-train-bench step [--encoder E] [--size N] [--batch N] [--aus N] [--dim N] [--steps N] [--warmup N] [--optimizer flat-adamw|adamw]\n       aunce-train-bench loader DIR [--size N] [--batch N]\n       aunce-train-bench augment [--size N] [--batch N]");
        return 2;
}

void Step()
{
    var size = I("--size", 112);
    var batch = I("--batch", 32);
    var aus = I("--aus", 12);
    var steps = I("--steps", 20);
    var warmup = I("--warmup", 5);
    var optimizerName = O("--optimizer", "flat-adamw");
    torch.random.manual_seed(0);
    using var model = EncoderFactory.Create(new ModelOptions { Encoder = O("--encoder", "resnet18"), FeatureDim = I("--dim", 512), InputSize = size }, aus);
    model.train();
    var parameters = model.parameters().ToList();
    using var optimizer = new TrainingOptimizer(optimizerName, parameters, 1e-4, 1e-6);
    var options = new AunceLossOptions();
    var rng = new Random(0);
    using var v1 = torch.randn(batch, 3, size, size);
    using var v2 = torch.randn(batch, 3, size, size);
    using var labels = torch.rand(batch, aus).lt(0.3).to(ScalarType.Float32);
    var times = new List<double>();
    for (var s = 0; s < warmup + steps; s++)
    {
        var watch = Stopwatch.StartNew();
        using (NewDisposeScope())
        {
            var loss = AunceLoss.Compute(model.forward(v1), model.forward(v2), labels, options.DrawPositiveTypes(aus, rng), options);
            optimizer.Step(loss);

            _ = loss.item<float>();
        }

        if (s >= warmup)
        {
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
    }

    times.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"impl\": \"torchsharp\", \"optimizer\": \"{optimizerName}\", \"median_ms\": {times[times.Count / 2]:0.0}, \"min_ms\": {times[0]:0.0}, \"threads\": {torch.get_num_threads()}}}"));
}

// The two-view transform's cost per part, on one batch (B, 3, size, size) uint8 → crop 7/8.
void Augment()
{
    var size = I("--size", 256);
    var batch = I("--batch", 64);
    var crop = (int)Math.Round(size * 7.0 / 8.0);
    var x = torch.rand(batch, 3, size, size, generator: new torch.Generator(1)).mul(255).to(ScalarType.Byte);
    var unit = x.narrow(2, 0, crop).narrow(3, 0, crop).to(ScalarType.Float32).div(255);
    using var g = new torch.Generator(1);
    var parts = new List<string>();
    void Time(string name, Func<Tensor> f)
    {
        using (torch.NewDisposeScope())
        {
            f();
        }

        var w = Stopwatch.StartNew();
        for (var i = 0; i < 3; i++)
        {
            using var s = torch.NewDisposeScope();
            f();
        }

        parts.Add(string.Create(CultureInfo.InvariantCulture, $"\"{name}\": {w.Elapsed.TotalMilliseconds / 3:0.0}"));
    }

    Time("basic_view_ms", () => new TwoViewAugmenter(new AugmentOptions { Mode = "basic" }, crop).View(x, g));
    Time("enhance_view_ms", () => new TwoViewAugmenter(new AugmentOptions(), crop).View(x, g));
    Time("enhance_without_jitter_ms", () => new TwoViewAugmenter(new AugmentOptions { JitterProbability = 0 }, crop).View(x, g));
    Time("hue_all_images_ms", () => TwoViewAugmenter.AdjustHue(unit, torch.full(batch, 1, 1, 0.05f)));
    Time("blur_ms", () => TwoViewAugmenter.GaussianBlur(unit, 3, torch.full(batch, 1.0f)));
    Console.WriteLine($"{{\"size\": {size}, \"batch\": {batch}, \"threads\": {torch.get_num_threads()}, {string.Join(", ", parts)}}}");
}

void Loader(string dir)
{
    var size = I("--size", 112);
    var batch = I("--batch", 64);
    var files = Directory.EnumerateFiles(dir, "*.png", SearchOption.AllDirectories).Concat(Directory.EnumerateFiles(dir, "*.jpg", SearchOption.AllDirectories)).Order(StringComparer.Ordinal).ToList();
    var split = new AuSplit(files, new float[files.Count, 1], [.. files.Select(_ => "s")], ["AU1"]);
    var images = AuSplitImages.Streaming(split, size, workers: 0, prefetch: 4);
    var order = Enumerable.Range(0, files.Count).Select(i => (long)i).ToArray();
    var augmenter = new TwoViewAugmenter(new AugmentOptions(), (int)Math.Round(size * 7.0 / 8.0));
    using var generator = new torch.Generator(1);

    // Decoding alone (the prefetching streaming loader), then decoding + both enhance views as training consumes them.
    var watch = Stopwatch.StartNew();
    foreach (var b in images.Batches(order, batch, CancellationToken.None))
    {
        b.Images.Dispose();
        b.Labels.Dispose();
    }

    var decode = watch.Elapsed.TotalSeconds;
    watch.Restart();
    foreach (var b in images.Batches(order, batch, CancellationToken.None))
    {
        using var scope = torch.NewDisposeScope();
        using var pixels = b.Images;
        using var labels = b.Labels;
        augmenter.View(pixels, generator);
        augmenter.View(pixels, generator);
    }

    var withAugment = watch.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"images\": {files.Count}, \"size\": {size}, \"batch\": {batch}, \"cores\": {Environment.ProcessorCount}, \"decode_images_per_s\": {files.Count / decode:0}, \"decode_and_two_enhance_views_images_per_s\": {files.Count / withAugment:0}}}"));
}
