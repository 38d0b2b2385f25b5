using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AunceSearch.Training.Models;

/// <summary>Swin Transformer sizes (Liu et al. 2021).</summary>
public sealed record SwinOptions
{
    public int EmbedDim { get; init; } = 96;

    public int[] Depths { get; init; } = [2, 2, 6, 2];

    public int[] Heads { get; init; } = [3, 6, 12, 24];

    public int Window { get; init; } = 7;

    public int PatchSize { get; init; } = 4;

    public double MlpRatio { get; init; } = 4.0;

    /// <summary>Stochastic-depth rate of the last block (linearly increasing from 0); the reference's Swin-B uses 0.5.</summary>
    public double DropPath { get; init; } = 0.2;

    /// <summary>Swin-T: embed 96, depths 2/2/6/2, heads 3/6/12/24.</summary>
    public static SwinOptions Tiny => new();

    /// <summary>Swin-B as the AUNCE reference builds it: embed 128, depths 2/2/18/2, heads 4/8/16/32, drop path 0.5.</summary>
    public static SwinOptions Base => new() { EmbedDim = 128, Depths = [2, 2, 18, 2], Heads = [4, 8, 16, 32], DropPath = 0.5 };
}

/// <summary>
/// The Swin Transformer backbone with the parameter names of Microsoft's original implementation (the one the AUNCE
/// reference uses, and the <c>swin_*_patch4_window7_224.pth</c> checkpoints): <c>patch_embed.proj</c>, <c>patch_embed.norm</c>,
/// <c>layers.i.blocks.j.{norm1, attn.qkv, attn.proj, attn.relative_position_bias_table, norm2, mlp.fc1, mlp.fc2}</c>,
/// <c>layers.i.downsample.{norm, reduction}</c> (patch merging at the end of stage i), <c>norm</c>. The relative-position
/// index and the shifted-window masks are derived buffers and not saved. As in the original, a stage whose resolution
/// is not larger than the window uses one window and no shift. <see cref="forward"/> returns the final-stage tokens after
/// the last LayerNorm, without pooling: (B, L, 8·embed).
/// </summary>
public sealed class SwinBackbone : Module<Tensor, Tensor>, IBackbone
{
    private readonly PatchEmbed patch_embed;
    private readonly ModuleList<SwinStage> layers;
    private readonly LayerNorm norm;
    private readonly int _patchResolution;

    public SwinBackbone(SwinOptions options, int imageSize) : base("SwinTransformer")
    {
        var stages = options.Depths.Length;
        if (stages < 1 || options.Heads.Length != stages || options.Depths.Any(d => d < 1))
        {
            throw new ArgumentException($"swin: depths [{string.Join(", ", options.Depths)}] and heads [{string.Join(", ", options.Heads)}] must be non-empty lists of equal length");
        }

        if (imageSize % options.PatchSize != 0)
        {
            throw new ArgumentException($"swin: image size {imageSize} is not a multiple of the patch size {options.PatchSize}");
        }

        _patchResolution = imageSize / options.PatchSize;
        patch_embed = new PatchEmbed(options.PatchSize, options.EmbedDim);
        var totalBlocks = options.Depths.Sum();
        var blockIndex = 0;
        var stageList = new List<SwinStage>();
        var resolution = _patchResolution;
        for (var i = 0; i < stages; i++)
        {
            var dim = options.EmbedDim << i;
            if (options.Heads[i] < 1 || dim % options.Heads[i] != 0)
            {
                throw new ArgumentException($"swin: stage {i + 1} width {dim} is not divisible by its {options.Heads[i]} heads");
            }

            var window = Math.Min(options.Window, resolution);
            if (resolution % window != 0)
            {
                throw new ArgumentException(
                    $"swin: stage {i + 1} resolution {resolution}x{resolution} (image {imageSize}) is not a multiple of the window {options.Window}; choose an image size such as {options.PatchSize * options.Window * (1 << (stages - 1))}");
            }

            var last = i == stages - 1;
            if (!last && resolution % 2 != 0)
            {
                throw new ArgumentException($"swin: stage {i + 1} resolution {resolution} is odd and cannot be merged into the next stage");
            }

            var rates = Enumerable.Range(blockIndex, options.Depths[i])
                .Select(b => totalBlocks > 1 ? options.DropPath * b / (totalBlocks - 1) : 0.0).ToArray();
            stageList.Add(new SwinStage(dim, resolution, options.Depths[i], options.Heads[i], window, options.MlpRatio, rates, downsample: !last));
            blockIndex += options.Depths[i];
            if (!last)
            {
                resolution /= 2;
            }
        }

        layers = new ModuleList<SwinStage>([.. stageList]);
        OutputChannels = options.EmbedDim << (stages - 1);
        norm = LayerNorm(OutputChannels);
        RegisterComponents();
        using var _ = torch.no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("relative_position_bias_table", StringComparison.Ordinal))
            {
                init.trunc_normal_(p, std: 0.02);
            }
            else if (p.dim() == 2 && !name.StartsWith("patch_embed", StringComparison.Ordinal))
            {
                init.trunc_normal_(p, std: 0.02);
            }
            else if (p.dim() == 1 && name.EndsWith(".bias", StringComparison.Ordinal) && !name.Contains("norm", StringComparison.Ordinal))
            {
                init.zeros_(p);
            }
        }
    }

    public int OutputChannels { get; }

    /// <summary>Random numbers for stochastic depth (null: libtorch's global generator).</summary>
    public Generator? Generator
    {
        set
        {
            foreach (var stage in layers)
            {
                stage.SetGenerator(value);
            }
        }
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = patch_embed.forward(input);     // (B, H/4·W/4, E)
        foreach (var stage in layers)
        {
            x = stage.forward(x);
        }

        return norm.forward(x).MoveToOuterDisposeScope();
    }

    private sealed class PatchEmbed : Module<Tensor, Tensor>
    {
        private readonly RoutedConv2d proj;
        private readonly LayerNorm norm;

        public PatchEmbed(int patch, int dim) : base("PatchEmbed")
        {
            proj = new RoutedConv2d(3, dim, patch, stride: patch, inputIsData: true);
            norm = LayerNorm(dim);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return norm.forward(proj.forward(x).flatten(2).transpose(1, 2)).MoveToOuterDisposeScope();
        }
    }

    private sealed class SwinStage : Module<Tensor, Tensor>
    {
        private readonly ModuleList<SwinBlock> blocks;
        private readonly PatchMerging? downsample;

        public SwinStage(int dim, int resolution, int depth, int heads, int window, double mlpRatio, double[] dropPath, bool downsample) : base("BasicLayer")
        {
            var shift = resolution <= window ? 0 : window / 2;
            blocks = new ModuleList<SwinBlock>([.. Enumerable.Range(0, depth).Select(j =>
                new SwinBlock(dim, resolution, heads, window, j % 2 == 0 ? 0 : shift, mlpRatio, dropPath[j]))]);
            if (downsample)
            {
                this.downsample = new PatchMerging(dim, resolution);
            }

            RegisterComponents();
        }

        public void SetGenerator(Generator? generator)
        {
            foreach (var b in blocks)
            {
                b.Generator = generator;
            }
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            foreach (var b in blocks)
            {
                x = b.forward(x);
            }

            return (downsample is null ? x : downsample.forward(x)).MoveToOuterDisposeScope();
        }
    }

    private sealed class PatchMerging : Module<Tensor, Tensor>
    {
        private readonly LayerNorm norm;
        private readonly Linear reduction;
        private readonly int _resolution;

        public PatchMerging(int dim, int resolution) : base("PatchMerging")
        {
            _resolution = resolution;
            norm = LayerNorm(4 * dim);
            reduction = Linear(4 * dim, 2 * dim, hasBias: false);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var b = x.shape[0];
            var c = x.shape[2];
            var r = _resolution;
            // (B, H, W, C) → (B, H/2, 2, W/2, 2, C); the original concatenates x[0::2,0::2], x[1::2,0::2], x[0::2,1::2], x[1::2,1::2].
            var g = x.view(b, r / 2, 2, r / 2, 2, c).permute(0, 1, 3, 4, 2, 5).reshape(b, (r / 2) * (r / 2), 4 * c);
            return reduction.forward(norm.forward(g)).MoveToOuterDisposeScope();
        }
    }

    private sealed class SwinBlock : Module<Tensor, Tensor>
    {
        private readonly LayerNorm norm1;
        private readonly WindowAttention attn;
        private readonly LayerNorm norm2;
        private readonly Mlp mlp;
        private readonly int _resolution;
        private readonly int _window;
        private readonly int _shift;
        private readonly double _dropPath;
        private readonly DerivedTensor? _attnMask;

        public SwinBlock(int dim, int resolution, int heads, int window, int shift, double mlpRatio, double dropPath) : base("SwinTransformerBlock")
        {
            _resolution = resolution;
            _window = window;
            _shift = shift;
            _dropPath = dropPath;
            norm1 = LayerNorm(dim);
            attn = new WindowAttention(dim, window, heads);
            norm2 = LayerNorm(dim);
            mlp = new Mlp(dim, (int)(dim * mlpRatio));
            if (shift > 0)
            {
                _attnMask = new DerivedTensor(ShiftMask(resolution, window, shift));
            }

            RegisterComponents();
        }

        public Generator? Generator { get; set; }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var b = x.shape[0];
            var c = x.shape[2];
            var r = _resolution;
            var w = _window;
            var h = norm1.forward(x).view(b, r, r, c);
            if (_shift > 0)
            {
                h = h.roll([-_shift, -_shift], [1, 2]);
            }

            // Windows: (B·nW, w·w, C).
            var windows = h.view(b, r / w, w, r / w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, c);
            var attended = attn.Forward(windows, _attnMask?.On(windows.device));
            h = attended.view(b, r / w, r / w, w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(b, r, r, c);
            if (_shift > 0)
            {
                h = h.roll([_shift, _shift], [1, 2]);
            }

            x = x.add(DropPath(h.view(b, r * r, c)));
            x = x.add(DropPath(mlp.forward(norm2.forward(x))));
            return x.MoveToOuterDisposeScope();
        }

        /// <summary>Stochastic depth: in training, drop the residual branch per sample with probability p and scale by 1/(1−p).</summary>
        private Tensor DropPath(Tensor branch)
        {
            if (!training || _dropPath <= 0)
            {
                return branch;
            }

            var keep = 1 - _dropPath;
            var mask = torch.rand([branch.shape[0], 1, 1], generator: Generator, device: branch.device, dtype: branch.dtype).lt(keep).to(branch.dtype);
            return branch.mul(mask).div(keep);
        }

        /// <summary>The original's mask for shifted windows: −100 between positions that came from different regions.</summary>
        private static Tensor ShiftMask(int r, int w, int shift)
        {
            var region = new float[r * r];
            int[] bounds = [0, r - w, r - shift, r];
            var id = 0;
            for (var hi = 0; hi < 3; hi++)
            {
                for (var wi = 0; wi < 3; wi++)
                {
                    for (var y = bounds[hi]; y < bounds[hi + 1]; y++)
                    {
                        for (var x = bounds[wi]; x < bounds[wi + 1]; x++)
                        {
                            region[(y * r) + x] = id;
                        }
                    }

                    id++;
                }
            }

            using var scope = NewDisposeScope();
            var windows = torch.tensor(region, [1, r / w, w, r / w, w]).permute(0, 1, 3, 2, 4).reshape(-1, w * w);   // (nW, w·w)
            var diff = windows.unsqueeze(1).sub(windows.unsqueeze(2));
            return torch.zeros_like(diff).masked_fill(diff.ne(0), -100.0).MoveToOuterDisposeScope();
        }
    }

    private sealed class WindowAttention : Module<Tensor, Tensor>
    {
        private readonly Parameter relative_position_bias_table;
        private readonly Linear qkv;
        private readonly Linear proj;
        private readonly DerivedTensor _relativePositionIndex;
        private readonly int _heads;
        private readonly int _tokens;
        private readonly double _scale;

        public WindowAttention(int dim, int window, int heads) : base("WindowAttention")
        {
            _heads = heads;
            _tokens = window * window;
            _scale = Math.Pow(dim / heads, -0.5);
            relative_position_bias_table = new Parameter(torch.zeros(((2 * window) - 1) * ((2 * window) - 1), heads));
            qkv = Linear(dim, 3 * dim);
            proj = Linear(dim, dim);
            var index = new long[_tokens * _tokens];
            for (var i = 0; i < _tokens; i++)
            {
                for (var j = 0; j < _tokens; j++)
                {
                    var dy = (i / window) - (j / window) + window - 1;
                    var dx = (i % window) - (j % window) + window - 1;
                    index[(i * _tokens) + j] = (dy * ((2 * window) - 1)) + dx;
                }
            }

            _relativePositionIndex = new DerivedTensor(torch.tensor(index));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => Forward(x, null);

        /// <summary>x: (B·nW, N, C); mask: (nW, N, N) or null.</summary>
        public Tensor Forward(Tensor x, Tensor? mask)
        {
            using var scope = NewDisposeScope();
            var bw = x.shape[0];
            var n = x.shape[1];
            var c = x.shape[2];
            var parts = qkv.forward(x).reshape(bw, n, 3, _heads, c / _heads).permute(2, 0, 3, 1, 4);
            var q = parts[0].mul(_scale);
            var k = parts[1];
            var v = parts[2];
            var attnScores = q.matmul(k.transpose(-2, -1));                                                 // (B·nW, h, N, N)
            var bias = relative_position_bias_table.index_select(0, _relativePositionIndex.On(x.device))
                .view(_tokens, _tokens, _heads).permute(2, 0, 1).unsqueeze(0);                               // (1, h, N, N)
            attnScores = attnScores.add(bias);
            if (mask is not null)
            {
                var nw = mask.shape[0];
                attnScores = attnScores.view(bw / nw, nw, _heads, n, n).add(mask.to(attnScores.dtype).unsqueeze(1).unsqueeze(0)).view(bw, _heads, n, n);
            }

            var o = attnScores.softmax(-1).matmul(v).transpose(1, 2).reshape(bw, n, c);
            return proj.forward(o).MoveToOuterDisposeScope();
        }
    }

    private sealed class Mlp : Module<Tensor, Tensor>
    {
        private readonly Linear fc1;
        private readonly Linear fc2;

        public Mlp(int dim, int hidden) : base("Mlp")
        {
            fc1 = Linear(dim, hidden);
            fc2 = Linear(hidden, dim);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return fc2.forward(functional.gelu(fc1.forward(x))).MoveToOuterDisposeScope();
        }
    }
}

/// <summary>
/// A constant derived from a module's shape (not a parameter, not saved), kept once per device it is used on. A plain
/// object rather than a buffer field, so that module registration leaves it alone and state dicts stay free of it.
/// </summary>
internal sealed class DerivedTensor(Tensor cpu)
{
    private readonly Tensor _cpu = cpu.DetachFromDisposeScope();
    private readonly Dictionary<string, Tensor> _byDevice = [];
    private readonly Lock _gate = new();

    public Tensor On(Device device)
    {
        if (device.type == DeviceType.CPU)
        {
            return _cpu;
        }

        lock (_gate)
        {
            var key = device.ToString();
            if (!_byDevice.TryGetValue(key, out var t))
            {
                t = _cpu.to(device).DetachFromDisposeScope();
                _byDevice[key] = t;
            }

            return t;
        }
    }
}
