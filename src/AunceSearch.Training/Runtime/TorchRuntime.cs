using System.Runtime.InteropServices;
using AunceSearch.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Runtime;

/// <summary>
/// Process-wide TorchSharp start-up. With <see cref="LibTorchDirectoryVariable"/> (or an explicit directory) naming
/// a libtorch installation — e.g. a PyTorch wheel's <c>torch/lib</c> on a GPU image — that libtorch, with CUDA if it
/// has it, is loaded before TorchSharp touches its own; otherwise the CPU libtorch shipped with the build is used.
/// Must run before any other use of <c>torch</c>.
/// </summary>
public static unsafe class TorchRuntime
{
    public const string LibTorchDirectoryVariable = "AUNCE_LIBTORCH_DIR";

    /// <summary>"off" skips the CPU kernel check (<see cref="VerifyCpuKernels"/>); anything else, or unset, runs it.</summary>
    public const string CpuKernelCheckVariable = "AUNCE_CPU_KERNEL_CHECK";

    private static readonly Dictionary<string, CpuKernelStatus> CpuKernels = new(StringComparer.Ordinal);
    private static bool _oneDnnOff;

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

            TuneMalloc();
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

            // NNPACK is libtorch's CPU convolution path for when oneDNN does not take a convolution. On a CPU it does not
            // support (AMD Zen 4, among others) every such convolution tries to initialise it again and prints
            // "Could not initialize NNPACK! Reason: Unsupported hardware." (930 lines for one trial, 3,372 for one epoch
            // of ResNet-18 with oneDNN off) before falling back anyway. It is switched off: convolutions go to oneDNN, or
            // to libtorch's own kernels where oneDNN is off.
            try
            {
                SetContextFlag("_ZN2at7Context20setUserEnabledNNPACKEb", "at::Context::setUserEnabledNNPACK", false);
            }
            catch (InvalidOperationException)
            {
                // A libtorch without the setter: its warnings stay, nothing else changes.
            }
        }
    }

    /// <summary>"off" leaves glibc's malloc as it is (<see cref="TuneMalloc"/>).</summary>
    public const string MallocTuningVariable = "AUNCE_MALLOC_TUNING";

    /// <summary>What <see cref="TuneMalloc"/> did: "tuned", or why not.</summary>
    public static string MallocTuning { get; private set; } = "not yet";

    /// <summary>
    /// glibc's malloc hands every block over its mmap threshold (at most 32 MB, adjusted as blocks come and go) straight
    /// back to the kernel when freed, and trims freed heap memory. libtorch allocates a batch's activations and
    /// augmentation intermediates (tens of MB each) afresh every step, so each one is mapped, page-faulted and zeroed again:
    /// on this project's CPU that took half the time of the two-view augmentation (measured: 300-335 ms a 64-image enhance
    /// view, 156-170 ms with the blocks kept). Raising the mmap threshold to 1 GiB and the trim threshold to 2 GiB keeps
    /// them in the heap for reuse, as PyTorch set-ups get from jemalloc or tcmalloc; the process keeps what it used at its
    /// peak instead of returning it. Skipped where the user tunes malloc (MALLOC_*_, GLIBC_TUNABLES), with
    /// AUNCE_MALLOC_TUNING=off, and off glibc.
    /// </summary>
    private static void TuneMalloc()
    {
        var env = Environment.GetEnvironmentVariables().Keys.Cast<string>();
        if (string.Equals(Environment.GetEnvironmentVariable(MallocTuningVariable), "off", StringComparison.OrdinalIgnoreCase))
        {
            MallocTuning = $"off ({MallocTuningVariable}=off)";
        }
        else if (env.FirstOrDefault(k => k.StartsWith("MALLOC_", StringComparison.Ordinal) || k == "GLIBC_TUNABLES") is { } user)
        {
            MallocTuning = $"left to the user's {user}";
        }
        else if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out var libc) || !NativeLibrary.TryGetExport(libc, "mallopt", out var mallopt))
        {
            MallocTuning = "not glibc";
        }
        else
        {
            const int trimThreshold = -1, mmapThreshold = -3;   // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD (malloc.h)
            var set = (delegate* unmanaged<int, int, int>)mallopt;
            MallocTuning = set(mmapThreshold, 1 << 30) == 1 && set(trimThreshold, int.MaxValue) == 1 ? "tuned" : "refused by mallopt";
        }
    }

    /// <summary>How many CUDA devices libtorch sees (0 without CUDA).</summary>
    public static int CudaDeviceCount => CudaAvailable ? torch.cuda.device_count() : 0;

    /// <summary>"cpu", "cuda" or "auto" (a benchmark's <c>--device</c>): <see cref="ResolveDevice(TrainingDevice, int)"/>.</summary>
    public static Device ResolveDevice(string preference, int index = 0) =>
        Enum.TryParse<TrainingDevice>(preference, ignoreCase: true, out var d) && Enum.IsDefined(d) && !int.TryParse(preference, out _)
            ? ResolveDevice(d, index)
            : throw new ArgumentException($"unknown device '{preference}' (cpu, cuda or auto)", nameof(preference));

    /// <summary>
    /// The CPU, CUDA (fails if there is none) or auto (CUDA when available); on CUDA, device <paramref name="index"/>
    /// (fails naming the devices there are when it is out of range).
    /// </summary>
    public static Device ResolveDevice(TrainingDevice preference, int index = 0)
    {
        EnsureInitialized();
        if (index < 0 || (index > 0 && _cuda && index >= torch.cuda.device_count() && preference is TrainingDevice.Cuda or TrainingDevice.Auto))
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"CUDA device {index} does not exist: this machine has {(_cuda ? torch.cuda.device_count() : 0)}");
        }

        return preference switch
        {
            TrainingDevice.Cpu => torch.CPU,
            TrainingDevice.Cuda when _cuda => torch.device(DeviceType.CUDA, index),
            TrainingDevice.Cuda => throw new InvalidOperationException(
                $"device 'cuda' requested but CUDA is not available (set {LibTorchDirectoryVariable} to a CUDA libtorch directory)"),
            TrainingDevice.Auto => _cuda ? torch.device(DeviceType.CUDA, index) : torch.CPU,
            _ => throw new ArgumentException($"unknown device {(int)preference} (cpu, cuda or auto)", nameof(preference)),
        };
    }

    /// <summary>Sets libtorch's intra-op thread count (process-wide).</summary>
    public static void SetThreads(int threads)
    {
        EnsureInitialized();
        torch.set_num_threads(Math.Max(1, threads));
    }

    /// <summary>
    /// Checks, before a model trains on the CPU, that libtorch's fp32 CPU convolution kernels compute what an fp64 reference
    /// computes on that model's convolutions (<see cref="CpuKernelCheck.CasesFor"/>, about a second), once per process for
    /// each set of shapes. If they do not, oneDNN is switched off for the process (libtorch's
    /// <c>at::Context::setUserEnabledMkldnn(false)</c>: its portable kernels, slower but correct) and the check runs again; if
    /// that fails too, training the model is refused (<see cref="CpuKernelPolicy"/>).
    /// </summary>
    public static CpuKernelStatus VerifyCpuKernels(IReadOnlyList<ConvCase> cases)
    {
        EnsureInitialized();
        lock (Gate)
        {
            if (string.Equals(Environment.GetEnvironmentVariable(CpuKernelCheckVariable), "off", StringComparison.OrdinalIgnoreCase))
            {
                return new CpuKernelStatus(null, null);
            }

            var key = string.Join("|", cases.Select(c => c with { Name = "" }).Distinct().Select(c => c.ToString()).Order(StringComparer.Ordinal));
            if (CpuKernels.TryGetValue(key, out var known))
            {
                return known;
            }

            var status = CpuKernelPolicy.Decide(() => CpuKernelCheck.Run(cases), () =>
            {
                SetOneDnnEnabled(false);
                _oneDnnOff = true;
            }, _oneDnnOff);
            CpuKernels[key] = status;
            return status;
        }
    }

    /// <summary>Switches libtorch's use of oneDNN (mkldnn) on or off for the process.</summary>
    public static void SetOneDnnEnabled(bool enabled) => SetContextFlag("_ZN2at7Context20setUserEnabledMkldnnEb", "at::Context::setUserEnabledMkldnn", enabled);

    /// <summary>Allows or forbids TF32 in cuDNN convolutions (libtorch's default: allowed; parity checks forbid it, as PyTorch's side does).</summary>
    public static void SetCudnnTf32(bool allowed) => SetContextFlag("_ZN2at7Context17setAllowTF32CuDNNEb", "at::Context::setAllowTF32CuDNN", allowed);

    /// <summary>Whether libtorch may use NNPACK (false once initialised: see <see cref="EnsureInitialized"/>).</summary>
    public static bool NnpackEnabled
    {
        get
        {
            EnsureInitialized();
            foreach (var lib in new[] { "libtorch_cpu.so", "libtorch.so" })
            {
                if (NativeLibrary.TryLoad(lib, typeof(torch).Assembly, null, out var h)
                    && NativeLibrary.TryGetExport(h, "_ZN2at13globalContextEv", out var context)
                    && NativeLibrary.TryGetExport(h, "_ZNK2at7Context17userEnabledNNPACKEv", out var get))
                {
                    return ((delegate* unmanaged<IntPtr, byte>)get)(((delegate* unmanaged<IntPtr>)context)()) != 0;
                }
            }

            throw new InvalidOperationException("this libtorch does not export at::Context::userEnabledNNPACK");
        }
    }

    /// <summary>Calls a <c>void at::Context::X(bool)</c> setter on libtorch's global context through its exported (mangled) name.</summary>
    private static void SetContextFlag(string export, string name, bool value)
    {
        EnsureInitialized();
        foreach (var lib in new[] { "libtorch_cpu.so", "libtorch.so" })
        {
            if (NativeLibrary.TryLoad(lib, typeof(torch).Assembly, null, out var h)
                && NativeLibrary.TryGetExport(h, "_ZN2at13globalContextEv", out var context)
                && NativeLibrary.TryGetExport(h, export, out var set))
            {
                var ctx = ((delegate* unmanaged<IntPtr>)context)();
                ((delegate* unmanaged<IntPtr, byte, void>)set)(ctx, value ? (byte)1 : (byte)0);
                return;
            }
        }

        throw new InvalidOperationException($"this libtorch does not export {name}");
    }
}

/// <summary>What <see cref="TorchRuntime.VerifyCpuKernels"/> found.</summary>
/// <param name="First">The check with oneDNN on (null when the check is switched off).</param>
/// <param name="Fallback">The check after switching oneDNN off, when the first one failed.</param>
/// <param name="OneDnnAlreadyOff">oneDNN was off before this check (an earlier model's check switched it off): nothing to fall back to.</param>
public sealed record CpuKernelStatus(KernelCheckResult? First, KernelCheckResult? Fallback, bool OneDnnAlreadyOff = false)
{
    /// <summary>oneDNN was switched off for the process (the first check failed, so the fallback ran).</summary>
    public bool OneDnnDisabled => Fallback is not null || OneDnnAlreadyOff;

    /// <summary>Training on the CPU computes correct numbers (or the check was switched off).</summary>
    public bool Usable => First is null || First.Passed || Fallback is { Passed: true };

    public string Describe() => First switch
    {
        null => "CPU kernel check skipped (AUNCE_CPU_KERNEL_CHECK=off)",
        { Passed: true } => $"CPU kernel check passed ({First.Cases.Count} convolution shapes agree with fp64{(OneDnnAlreadyOff ? ", oneDNN off" : $", oneDNN on, channels padded below {Models.ConvRouting.Lanes}")})",
        _ when Fallback is { Passed: true } =>
            "CPU kernel check: oneDNN computes wrong convolutions on this CPU, so it is switched off for this process (libtorch's portable kernels are used): "
            + string.Join("; ", First.Failures.Take(3)),
        _ => "CPU kernel check failed with and without oneDNN: this CPU's libtorch kernels compute wrong convolutions (set AUNCE_CPU_KERNEL_CHECK=off to train anyway): "
             + string.Join("; ", (Fallback ?? First).Failures.Take(3)),
    };
}
