using System.Runtime.Intrinsics.X86;

namespace AunceSearch.Training.Runtime;

/// <summary>
/// How many fp32 values one vector register of the instruction set oneDNN runs on holds: 16 with AVX-512 (oneDNN's
/// <c>avx512_core</c>: F, BW, DQ and VL), 8 with AVX2, 4 below that. oneDNN blocks convolution channels by this number, and
/// its backward kernels are wrong for convolutions with fewer channels than one block (<see cref="Models.ConvRouting"/>).
/// A cap set through oneDNN's own <c>ONEDNN_MAX_CPU_ISA</c> (or the older <c>DNNL_MAX_CPU_ISA</c>) is honoured, as oneDNN
/// honours it.
/// </summary>
public static class CpuVector
{
    public static int Fp32Lanes { get; } = Lanes(
        Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA"),
        Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported,
        Avx2.IsSupported);

    /// <summary>The fp32 lanes for a CPU with (or without) AVX-512 and AVX2 and oneDNN's ISA cap (null, "ALL" or a name such as "AVX2").</summary>
    public static int Lanes(string? maxIsa, bool avx512, bool avx2)
    {
        var hardware = avx512 ? 16 : avx2 ? 8 : 4;
        var cap = maxIsa?.Trim().ToLowerInvariant() switch
        {
            null or "" or "all" or "default" => hardware,
            var isa when isa.StartsWith("avx512", StringComparison.Ordinal) || isa.StartsWith("avx10", StringComparison.Ordinal) => 16,
            var isa when isa.StartsWith("avx", StringComparison.Ordinal) => 8,
            var isa when isa.StartsWith("sse", StringComparison.Ordinal) => 4,
            _ => hardware,
        };
        return Math.Min(hardware, cap);
    }
}
