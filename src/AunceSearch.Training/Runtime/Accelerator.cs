using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Runtime;

/// <summary>
/// What TorchSharp 0.107 lacks for fast GPU training, reached in libtorch directly: bf16 autocast (libtorch's
/// <c>at::autocast</c> thread-local switches, so call it on the training thread) and the channels_last layout. Autocast
/// is a CUDA feature here; on the CPU <see cref="Autocast"/> returns null and training runs in fp32.
/// </summary>
public static unsafe class Accelerator
{
    private const sbyte Cuda = 1;           // c10::DeviceType::CUDA
    private const sbyte BFloat16 = 15;      // c10::ScalarType::BFloat16
    private static readonly Lazy<AutocastApi?> Api = new(LoadApi);

    /// <summary>Enters bf16 autocast for CUDA on this thread until the returned scope is disposed; null where unavailable.</summary>
    public static IDisposable? Autocast(Device device)
    {
        if (device.type != DeviceType.CUDA)
        {
            return null;
        }

        var api = Api.Value ?? throw new InvalidOperationException(
            "bf16 autocast needs libtorch's at::autocast functions, which this libtorch does not export; set amp: off");
        api.SetEnabled(Cuda, 1);
        api.SetDtype(Cuda, BFloat16);
        api.Increment();
        return new Scope(api);
    }

    /// <summary>Re-lays every 4-D parameter and buffer of <paramref name="module"/> out as channels_last (NHWC strides).</summary>
    public static void ToChannelsLast(torch.nn.Module module)
    {
        using var _ = torch.no_grad();
        foreach (var (_, p) in module.named_parameters())
        {
            if (p.dim() == 4)
            {
                p.set_(ChannelsLast(p));
            }
        }
    }

    /// <summary>A (N, C, H, W) tensor with the same values and channels_last strides.</summary>
    public static Tensor ChannelsLast(Tensor x) => x.dim() == 4 ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x;

    private static AutocastApi? LoadApi()
    {
        foreach (var lib in new[] { "libtorch_cpu.so", "libtorch.so" })
        {
            if (!NativeLibrary.TryLoad(lib, typeof(torch).Assembly, null, out var h))
            {
                continue;
            }

            if (NativeLibrary.TryGetExport(h, "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb", out var setEnabled)
                && NativeLibrary.TryGetExport(h, "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE", out var setDtype)
                && NativeLibrary.TryGetExport(h, "_ZN2at8autocast17increment_nestingEv", out var inc)
                && NativeLibrary.TryGetExport(h, "_ZN2at8autocast17decrement_nestingEv", out var dec)
                && NativeLibrary.TryGetExport(h, "_ZN2at8autocast11clear_cacheEv", out var clear))
            {
                return new AutocastApi(
                    (delegate* unmanaged<sbyte, byte, void>)setEnabled,
                    (delegate* unmanaged<sbyte, sbyte, void>)setDtype,
                    (delegate* unmanaged<long>)inc,
                    (delegate* unmanaged<long>)dec,
                    (delegate* unmanaged<void>)clear);
            }
        }

        return null;
    }

    private sealed class AutocastApi(
        delegate* unmanaged<sbyte, byte, void> setEnabled,
        delegate* unmanaged<sbyte, sbyte, void> setDtype,
        delegate* unmanaged<long> increment,
        delegate* unmanaged<long> decrement,
        delegate* unmanaged<void> clear)
    {
        public void SetEnabled(sbyte device, byte on) => setEnabled(device, on);

        public void SetDtype(sbyte device, sbyte dtype) => setDtype(device, dtype);

        public long Increment() => increment();

        public long Decrement() => decrement();

        public void Clear() => clear();
    }

    private sealed class Scope(AutocastApi api) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (api.Decrement() == 0)
            {
                api.Clear();
            }

            api.SetEnabled(Cuda, 0);
        }
    }
}
