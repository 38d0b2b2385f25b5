using System.Diagnostics;
using System.Globalization;
using AunceSearch.Contracts;
using AunceSearch.Grains;
using AunceSearch.Training;
using AunceSearch.Training.Runtime;

namespace AunceSearch.Hosting;

/// <summary>
/// A trainer silo's devices and slots. With CUDA: every device libtorch sees, <see cref="TrainingExecutorOptions.TrialsPerDevice"/>
/// folds on each (their memory from <c>nvidia-smi</c> where it is installed; TorchSharp 0.107 does not expose it).
/// Without: one CPU device with <see cref="TrainingExecutorOptions.Slots"/> folds.
/// </summary>
public static class TrainerDeviceDetection
{
    public static TrainerDevices Detect(TrainingExecutorOptions options)
    {
        var cuda = TorchRuntime.CudaDeviceCount;
        if (cuda == 0)
        {
            return new TrainerDevices([new SlotDevice(0, "cpu", GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, options.Slots)]);
        }

        var memory = CudaMemory();
        return new TrainerDevices([.. Enumerable.Range(0, cuda).Select(i => new SlotDevice(i, "cuda", memory.GetValueOrDefault(i), options.TrialsPerDevice))]);
    }

    /// <summary>Each CUDA device's total memory in bytes, from nvidia-smi; empty when it is missing or fails.</summary>
    private static Dictionary<int, long> CudaMemory()
    {
        try
        {
            using var smi = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=index,memory.total --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (smi is null)
            {
                return [];
            }

            var text = smi.StandardOutput.ReadToEnd();
            if (!smi.WaitForExit(5000) || smi.ExitCode != 0)
            {
                return [];
            }

            return text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(l => l.Split(',', StringSplitOptions.TrimEntries))
                .Where(p => p.Length == 2 && int.TryParse(p[0], CultureInfo.InvariantCulture, out _) && long.TryParse(p[1], CultureInfo.InvariantCulture, out _))
                .ToDictionary(p => int.Parse(p[0], CultureInfo.InvariantCulture), p => long.Parse(p[1], CultureInfo.InvariantCulture) << 20);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return [];   // no nvidia-smi: memory unknown (0)
        }
    }
}
