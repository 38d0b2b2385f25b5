using System.Diagnostics;
using System.Globalization;
using AunceSearch.Model;
using AunceSearch.Training.Data;
using AunceSearch.Training.Loss;
using AunceSearch.Training.Models;
using AunceSearch.Training.Optim;
using AunceSearch.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

// aunce-train-bench step [--encoder resnet18] [--width 64] [--size 112] [--batch 32] [--aus 12] [--dim 512] [--steps 20] [--warmup 5] [--optimizer flat-adamw|adamw] [--threads N] [--device cpu|cuda] [--amp off|bf16] [--channels-last off|on]
// aunce-train-bench parity DIR [--device cpu|cuda]   (after bench/gpu/peer.py parity DIR)
// aunce-train-bench loader DIR [--size 112] [--batch 64]
var options = new BenchArgs(args);
string O(string k, string d) => options.Get(k, d);
int I(string k, int d) => options.Int(k, d);
TorchRuntime.EnsureInitialized();
if (options.Has("--threads"))
{
    TorchRuntime.SetThreads(I("--threads", 1));
}

// --conv-routing off: convolutions narrower than the CPU's vector are not padded (ConvRouting); --onednn off: libtorch's
// portable CPU kernels for the whole process. Both only to measure what they cost or fix; the product keeps both on.
if (O("--conv-routing", "on") == "off")
{
    ConvRouting.Lanes = 0;
}

if (O("--onednn", "on") == "off")
{
    TorchRuntime.SetOneDnnEnabled(false);
}

switch (args.FirstOrDefault())
{
    case "step":
        Step();
        return 0;
    case "augment":
        Augment();
        return 0;
    case "parity" when args.Length >= 2:
        Parity(args[1]);
        return 0;
    case "loader" when args.Length >= 2:
        Loader(args[1]);
        return 0;
    default:
        Console.Error.WriteLine("usage: aunce-train-bench step [--encoder E] [--width N] [--size N] [--batch N] [--aus N] [--dim N] [--steps N] [--warmup N] [--optimizer flat-adamw|adamw] [--device cpu|cuda] [--amp off|bf16] [--channels-last off|on]\n       aunce-train-bench parity DIR [--device cpu|cuda] [--tolerance 1e-4]\n       aunce-train-bench loader DIR [--size N] [--batch N]\n       aunce-train-bench augment [--size N] [--batch N]");
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
    var device = TorchRuntime.ResolveDevice(O("--device", "cpu"));
    var bf16 = O("--amp", "off") == "bf16";
    var channelsLast = O("--channels-last", "off") == "on";
    torch.random.manual_seed(0);
    using var model = EncoderFactory.Create(new ModelOptions { Encoder = O("--encoder", "resnet18"), Width = I("--width", 64), FeatureDim = I("--dim", 512), InputSize = size }, aus);
    model.to(device);
    if (channelsLast)
    {
        Accelerator.ToChannelsLast(model);
    }

    model.train();
    var kernels = "\"not run (cuda)\"";
    if (device.type == DeviceType.CPU)
    {
        // As FoldTrainer does before training: the kernel check of this model (it may switch oneDNN off for the process).
        var status = TorchRuntime.VerifyCpuKernels(CpuKernelCheck.CasesFor(model, channelsLast));
        kernels = status.OneDnnDisabled ? "\"onednn off\"" : status.First is null ? "\"skipped\"" : "\"passed\"";
    }

    var parameters = model.parameters().ToList();
    using var optimizer = new TrainingOptimizer(optimizerName, parameters, 1e-4, 1e-6, channelsLast);
    var options = new AunceLossOptions();
    var rng = new Random(0);
    using var v1raw = torch.randn(batch, 3, size, size, device: device);
    using var v2raw = torch.randn(batch, 3, size, size, device: device);
    using var v1 = channelsLast ? Accelerator.ChannelsLast(v1raw) : v1raw.alias();
    using var v2 = channelsLast ? Accelerator.ChannelsLast(v2raw) : v2raw.alias();
    using var labels = torch.rand(batch, aus, device: device).lt(0.3).to(ScalarType.Float32);
    var times = new List<double>();
    var lossTimes = new List<double>();
    void Sync()
    {
        if (device.type == DeviceType.CUDA)
        {
            torch.cuda.synchronize();
        }
    }

    Tensor Forward(Tensor x)
    {
        using var autocast = bf16 ? Accelerator.Autocast(device) : null;
        return model.forward(x).to(ScalarType.Float32);
    }

    for (var s = 0; s < warmup + steps; s++)
    {
        Sync();
        var watch = Stopwatch.StartNew();
        using (NewDisposeScope())
        {
            var types = options.DrawPositiveTypes(aus, rng);
            var loss = AunceLoss.Compute(Forward(v1), Forward(v2), labels, types, options);
            optimizer.Step(loss);
            _ = loss.item<float>();
            Sync();
            if (s >= warmup)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);

                // The loss's own share: forward + backward of the AUNCE loss alone on unit features of the same shape.
                var f1 = nn.functional.normalize(torch.randn(batch, aus, I("--dim", 512), device: device), dim: -1).requires_grad_(true);
                var f2 = nn.functional.normalize(torch.randn(batch, aus, I("--dim", 512), device: device), dim: -1).requires_grad_(true);
                Sync();
                var lossWatch = Stopwatch.StartNew();
                AunceLoss.Compute(f1, f2, labels, types, options).backward();
                Sync();
                lossTimes.Add(lossWatch.Elapsed.TotalMilliseconds);
            }
        }
    }

    times.Sort();
    lossTimes.Sort();
    var median = times[times.Count / 2];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"impl\": \"torchsharp\", \"device\": \"{device.type.ToString().ToLowerInvariant()}\", \"optimizer\": \"{optimizerName}\", \"amp\": \"{(bf16 ? "bf16" : "off")}\", \"channels_last\": {(channelsLast ? "true" : "false")}, \"median_ms\": {median:0.00}, \"min_ms\": {times[0]:0.00}, \"images_per_s\": {batch / median * 1000:0.0}, \"loss_ms\": {lossTimes[lossTimes.Count / 2]:0.000}, \"threads\": {torch.get_num_threads()}, \"kernel_check\": {kernels}, \"conv_routing_lanes\": {ConvRouting.Lanes}}}"));
}

// One fp32 training step against PyTorch's (bench/gpu/peer.py parity DIR wrote the weights, inputs, its fp32 step's results
// and the same step in fp64). Both fp32 steps are judged against the fp64 one, per tensor as max |fp32 - fp64| / max |fp64|:
// TorchSharp's loss and every gradient must be within the tolerance, or within 4x of PyTorch's own fp32 distance from fp64
// where rounding alone takes that further (small networks with batch statistics over a few values amplify it: two correct
// fp32 kernels that sum in another order differ by up to ~5e-4 on the CPU dry run's ResNet-18 of width 8; a wrong kernel
// is off by 0.1 to 1). The parameters after AdamW are compared with PyTorch's fp32 ones and reported, not judged.
void Parity(string dir)
{
    var device = TorchRuntime.ResolveDevice(O("--device", "cpu"));
    TorchRuntime.SetCudnnTf32(false);
    var tolerance = double.Parse(O("--tolerance", "1e-4"), CultureInfo.InvariantCulture);
    const double roundingFactor = 4;
    var state = SafeTensors.Read(Path.Combine(dir, "model.safetensors"));
    var inputs = SafeTensors.Read(Path.Combine(dir, "inputs.safetensors"));
    var expected = SafeTensors.Read(Path.Combine(dir, "expected.safetensors"));
    var truth = SafeTensors.Read(Path.Combine(dir, "expected64.safetensors"));
    var aus = (int)inputs["labels"].shape[1];
    var dim = (int)state["global_linear.fc.weight"].shape[0];
    var width = (int)state["backbone.conv1.weight"].shape[0];
    var encoder = state.ContainsKey("backbone.layer1.0.conv3.weight") ? "resnet50" : "resnet18";
    var size = (int)inputs["v1"].shape[2];
    using var model = EncoderFactory.Create(new ModelOptions { Encoder = encoder, Width = width, FeatureDim = dim, InputSize = size }, aus);
    var (missing, unexpected) = model.load_state_dict(state, strict: true);
    model.to(device);
    model.train();
    if (device.type == DeviceType.CPU)
    {
        // The product's own path: the kernel check of the model about to be trained (it may switch oneDNN off).
        var kernels = TorchRuntime.VerifyCpuKernels(CpuKernelCheck.CasesFor(model, channelsLast: false));
        Console.Error.WriteLine(kernels.Describe());
    }

    using var optimizer = new TrainingOptimizer(O("--optimizer", "flat-adamw"), model.parameters().ToList(), 1e-3, 1e-2);
    var types = inputs["types"].data<long>().Select(t => (PositiveType)(int)t).ToArray();
    var options = new AunceLossOptions();
    var loss = AunceLoss.Compute(model.forward(inputs["v1"].to(device)), model.forward(inputs["v2"].to(device)), inputs["labels"].to(device), types, options);
    var grads = new Dictionary<string, Tensor>(StringComparer.Ordinal);
    optimizer.Step(loss, beforeUpdate: () =>
    {
        foreach (var (name, p) in model.named_parameters())
        {
            grads[name] = p.grad!.detach().cpu().clone();
        }
    });
    // Per tensor: max |ours - theirs| / max(max |theirs|, 1e-4 of the largest value of that kind in the model). The floor keeps
    // analytically-zero gradients (biases feeding a BatchNorm, whose gradient is rounding noise on both sides) from
    // dividing by ~0; every other tensor is judged against its own scale.
    static double Rel(Tensor ours, Tensor theirs, double floor) =>
        ours.to(ScalarType.Float64).cpu().sub(theirs.to(ScalarType.Float64)).abs().max().item<double>() / Math.Max(theirs.to(ScalarType.Float64).abs().max().item<double>(), floor);
    // LinearBlock biases feed a BatchNorm: their gradient is zero up to rounding on both sides, and AdamW's m/sqrt(v) turns
    // that noise into +-lr steps, so they are listed but not judged.
    static bool FeedsBatchNorm(string name) => name.EndsWith("fc.bias", StringComparison.Ordinal);
    var excluded = model.named_parameters().Select(p => p.name).Where(FeedsBatchNorm).ToList();
    var names = model.named_parameters().Select(p => p.name).Where(n => !FeedsBatchNorm(n)).ToList();
    var gradFloor = 1e-4 * names.Max(n => truth["grad." + n].abs().max().item<double>());
    var paramFloor = 1e-4 * names.Max(n => expected["after." + n].abs().max().item<float>());
    var lossRel = Rel(loss.detach().reshape(1), truth["loss"], 1e-12);
    var peerLossRel = Rel(expected["loss"], truth["loss"], 1e-12);
    var gradWorst = names.Select(n => (name: n, Item2: Rel(grads[n], truth["grad." + n], gradFloor))).MaxBy(x => x.Item2);
    var peerWorst = names.Select(n => (name: n, Item2: Rel(expected["grad." + n], truth["grad." + n], gradFloor))).MaxBy(x => x.Item2);
    var after = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
    var paramWorst = names.Select(n => (name: n, Item2: Rel(after[n], expected["after." + n], paramFloor))).MaxBy(x => x.Item2);
    // Judged: the loss and every gradient. The parameters after one AdamW step are reported, not judged: Adam's first step is
    // lr * sign(g) for each element, so elements whose gradient is at rounding level flip sign on either side.
    var bound = Math.Max(tolerance, roundingFactor * Math.Max(peerWorst.Item2, peerLossRel));
    var pass = lossRel <= bound && gradWorst.Item2 <= bound;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"device\": \"{device.type.ToString().ToLowerInvariant()}\", \"encoder\": \"{encoder}\", \"tensors\": {grads.Count}, \"not_judged\": {excluded.Count}, \"loss\": {loss.item<float>():G9}, \"loss_rel\": {lossRel:G3}, \"worst_grad\": \"{gradWorst.name}\", \"worst_grad_rel\": {gradWorst.Item2:G3}, \"peer_worst_grad\": \"{peerWorst.name}\", \"peer_worst_grad_rel\": {peerWorst.Item2:G3}, \"worst_param\": \"{paramWorst.name}\", \"worst_param_rel\": {paramWorst.Item2:G3}, \"tolerance\": {tolerance:G3}, \"bound\": {bound:G3}, \"pass\": {(pass ? "true" : "false")}}}"));
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

    Time("basic_view_ms", () => new TwoViewAugmenter(new AugmentOptions { Mode = AugmentMode.Basic }, crop).View(x, g));
    Time("enhance_view_ms", () => new TwoViewAugmenter(new AugmentOptions(), crop).View(x, g));
    Time("enhance_without_jitter_ms", () => new TwoViewAugmenter(new AugmentOptions { Jitter = 0 }, crop).View(x, g));
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
