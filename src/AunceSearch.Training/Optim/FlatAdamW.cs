using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AunceSearch.Training.Optim;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter; PyTorch's <c>torch.optim.AdamW</c> update, amsgrad off) over all parameters at once.
/// Every parameter and its gradient become views into one flat buffer each (per dtype and device), so one step is a
/// fixed handful of tensor operations on the whole model instead of a dozen per parameter from C# — TorchSharp's own
/// AdamW loops over parameters, which makes the host the bottleneck on a fast GPU. 4-D parameters may keep a
/// channels_last layout inside the buffer. Autograd accumulates into the gradient views in place, so
/// <see cref="ZeroGrad"/> zeroes the buffer rather than dropping the gradients.
/// </summary>
public sealed class FlatAdamW : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor _flat;
    private readonly Tensor _grad;
    private readonly Tensor _expAvg;
    private readonly Tensor _expAvgSq;

    public FlatAdamW(IEnumerable<Parameter> parameters, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weightDecay = 1e-2, bool channelsLast = false)
    {
        _parameters = [.. parameters.Where(p => p.requires_grad)];
        if (_parameters.Length == 0)
        {
            throw new ArgumentException("no trainable parameters", nameof(parameters));
        }

        var device = _parameters[0].device;
        var dtype = _parameters[0].dtype;
        if (_parameters.Any(p => p.device.ToString() != device.ToString() || p.dtype != dtype))
        {
            throw new ArgumentException("FlatAdamW needs every parameter on one device with one dtype", nameof(parameters));
        }

        LearningRate = lr;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        var total = _parameters.Sum(p => p.NumberOfElements);
        _flat = torch.empty(total, dtype, device).DetachFromDisposeScope();
        _grad = torch.zeros(total, dtype, device).DetachFromDisposeScope();
        _expAvg = torch.zeros(total, dtype, device).DetachFromDisposeScope();
        _expAvgSq = torch.zeros(total, dtype, device).DetachFromDisposeScope();
        long offset = 0;
        using (torch.no_grad())
        {
            foreach (var p in _parameters)
            {
                var n = p.NumberOfElements;
                using var scope = NewDisposeScope();
                var data = View(_flat, offset, p.shape, channelsLast);
                data.copy_(p);
                p.set_(data);
                p.grad = View(_grad, offset, p.shape, channelsLast);
                offset += n;
            }
        }
    }

    public double LearningRate { get; set; }

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Eps { get; }

    public double WeightDecay { get; set; }

    /// <summary>Steps taken (Adam's t).</summary>
    public long Steps { get; private set; }

    /// <summary>Zeroes every gradient (one operation).</summary>
    public void ZeroGrad() => _grad.zero_();

    /// <summary>One AdamW step on every parameter.</summary>
    public void Step()
    {
        using var scope = NewDisposeScope();
        using var _ = torch.no_grad();
        Steps++;
        var bc1 = 1 - Math.Pow(Beta1, Steps);
        var bc2 = 1 - Math.Pow(Beta2, Steps);
        _flat.mul_(1 - (LearningRate * WeightDecay));
        _expAvg.mul_(Beta1).add_(_grad, alpha: 1 - Beta1);
        _expAvgSq.mul_(Beta2).addcmul_(_grad, _grad, value: 1 - Beta2);
        var denom = _expAvgSq.sqrt().div_(Math.Sqrt(bc2)).add_(Eps);
        _flat.addcdiv_(_expAvg, denom, value: -(LearningRate / bc1));
    }

    /// <summary>Writes the optimizer state (step count and both moments).</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write("flat-adamw/1");
        writer.Write(Steps);
        writer.Write(_flat.NumberOfElements);
        foreach (var t in new[] { _expAvg, _expAvgSq })
        {
            using var cpu = t.to(ScalarType.Float32).cpu();
            writer.Write(cpu.bytes);
        }
    }

    /// <summary>Restores state written by <see cref="Save"/> for the same model.</summary>
    public void Load(BinaryReader reader, string source)
    {
        var tag = reader.ReadString();
        if (tag != "flat-adamw/1")
        {
            throw new InvalidDataException($"{source}: optimizer state '{tag}' is not FlatAdamW's (flat-adamw/1)");
        }

        Steps = reader.ReadInt64();
        var n = reader.ReadInt64();
        if (n != _flat.NumberOfElements)
        {
            throw new InvalidDataException($"{source}: optimizer state has {n} values but the model has {_flat.NumberOfElements} parameters");
        }

        using var _ = torch.no_grad();
        var length = checked((int)(n * sizeof(float)));
        foreach (var t in new[] { _expAvg, _expAvgSq })
        {
            // On the CPU a moment takes the bytes itself; on a GPU they pass through a host copy.
            var direct = t.device_type == DeviceType.CPU && t.is_contiguous() && t.dtype == ScalarType.Float32;
            using var cpu = direct ? null : torch.empty(n, ScalarType.Float32);
            var into = cpu ?? t;
            if (reader.BaseStream is MemoryStream ms && ms.TryGetBuffer(out var buffer) && ms.Length - ms.Position >= length)
            {
                into.bytes = buffer.AsSpan((int)ms.Position, length);   // straight from the checkpoint: no array of a third of it per moment
                ms.Position += length;
            }
            else
            {
                var bytes = reader.ReadBytes(length);
                if (bytes.Length != length)
                {
                    throw new InvalidDataException($"{source}: optimizer state is cut short");
                }

                into.bytes = bytes;
            }

            if (cpu is not null)
            {
                t.copy_(cpu);
            }
        }
    }

    public void Dispose()
    {
        _flat.Dispose();
        _grad.Dispose();
        _expAvg.Dispose();
        _expAvgSq.Dispose();
    }

    private static Tensor View(Tensor flat, long offset, long[] shape, bool channelsLast)
    {
        var n = shape.Aggregate(1L, (a, b) => a * b);
        var chunk = flat.narrow(0, offset, n);
        return channelsLast && shape.Length == 4
            ? chunk.view(shape[0], shape[2], shape[3], shape[1]).permute(0, 3, 1, 2)
            : chunk.view(shape);
    }
}
