using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Runtime;

/// <summary>
/// Process-wide TorchSharp start-up. With <see cref="LibTorchDirectoryVariable"/> (or an explicit directory) naming
/// a libtorch installation — e.g. a PyTorch wheel's <c>torch/lib</c> on a GPU image — that libtorch, with CUDA if it
/// has it, is loaded before TorchSharp touches its own; otherwise the CPU libtorch shipped with the build is used.
/// Must run before any other use of <c>torch</c>.
/// </summary>
public static class TorchRuntime
{
    public const string LibTorchDirectoryVariable = "AUNCE_LIBTORCH_DIR";

    private static readonly Lock Gate = new();
    private static bool _initialized;
    private static bool _cuda;

    /// <summary>Serialises code that uses libtorch's global RNG (module initialisation) across training threads.</summary>
    public static Lock GlobalRngLock { get; } = new();

    public static bool CudaAvailable
    {
        get
        {
            EnsureInitialized();
            return _cuda;
        }
    }

    public static void EnsureInitialized(string? libTorchDirectory = null)
    {
        lock (Gate)
        {
            if (_initialized)
            {
                return;
            }

            libTorchDirectory ??= Environment.GetEnvironmentVariable(LibTorchDirectoryVariable);
            if (!string.IsNullOrWhiteSpace(libTorchDirectory))
            {
                if (!Directory.Exists(libTorchDirectory))
                {
                    throw new DirectoryNotFoundException($"{LibTorchDirectoryVariable}={libTorchDirectory}: directory not found");
                }

                // Load order matters: the CUDA libraries resolve against the core ones already in the process.
                foreach (var lib in new[] { "libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so" })
                {
                    var path = Path.Combine(libTorchDirectory, lib);
                    if (File.Exists(path))
                    {
                        NativeLibrary.Load(path);
                    }
                }

                if (File.Exists(Path.Combine(libTorchDirectory, "libtorch_cuda.so")))
                {
                    torch.InitializeDeviceType(DeviceType.CUDA);
                }
            }

            _cuda = torch.cuda.is_available();
            _initialized = true;
        }
    }

    /// <summary>"cpu", "cuda" (fails if there is none) or "auto" (CUDA when available).</summary>
    public static Device ResolveDevice(string preference)
    {
        EnsureInitialized();
        return preference switch
        {
            "cpu" => torch.CPU,
            "cuda" when _cuda => torch.CUDA,
            "cuda" => throw new InvalidOperationException(
                $"device 'cuda' requested but CUDA is not available (set {LibTorchDirectoryVariable} to a CUDA libtorch directory)"),
            "auto" => _cuda ? torch.CUDA : torch.CPU,
            _ => throw new ArgumentException($"unknown device '{preference}' (cpu, cuda or auto)", nameof(preference)),
        };
    }

    /// <summary>Sets libtorch's intra-op thread count (process-wide).</summary>
    public static void SetThreads(int threads)
    {
        EnsureInitialized();
        torch.set_num_threads(Math.Max(1, threads));
    }
}
