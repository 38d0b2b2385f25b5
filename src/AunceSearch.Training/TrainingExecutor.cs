using AunceSearch.Training.Runtime;

namespace AunceSearch.Training;

/// <summary>How many folds train at once in this process, and with how many libtorch threads.</summary>
public sealed record TrainingExecutorOptions
{
    public const string SectionName = "Aunce:Training";

    /// <summary>Concurrent fold trainings (one dedicated thread each).</summary>
    public int Slots { get; set; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// On a CUDA silo: folds that train at once on each device (its slots are devices × this). Small trials pack several
    /// per GPU; large ones want 1. A CPU silo has one device with <see cref="Slots"/> slots.
    /// </summary>
    public int TrialsPerDevice { get; set; } = 1;

    /// <summary>
    /// Test seam. Greater than 0: the silo trains nothing and every fold epoch takes exactly this many seconds instead
    /// (<see cref="FixedCostTrainer"/>, for the scale and chaos benchmarks). 0, the default: real training.
    /// </summary>
    public double SimulatedEpochSeconds { get; set; }

    /// <summary>libtorch intra-op threads (process-wide); 0 = cores / slots.</summary>
    public int TorchThreads { get; set; }

    /// <summary>
    /// MiB of decoded images this silo keeps in memory for all its folds and sweeps together (each image once); a dataset
    /// that does not fit is streamed from disk. 0, the default: 40 % of the memory the process may use.
    /// </summary>
    public double ImageCacheMiB { get; set; }

    /// <summary>Throws naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Slots is < 1 or > 1024)
        {
            throw new InvalidOperationException($"{SectionName}:Slots is {Slots}; it must be between 1 and 1024 (concurrent fold trainings on this silo)");
        }

        if (TrialsPerDevice is < 1 or > 64)
        {
            throw new InvalidOperationException($"{SectionName}:TrialsPerDevice is {TrialsPerDevice}; it must be between 1 and 64 (folds training at once on one CUDA device)");
        }

        if (!double.IsFinite(SimulatedEpochSeconds) || SimulatedEpochSeconds is < 0 or > 86400)
        {
            throw new InvalidOperationException($"{SectionName}:SimulatedEpochSeconds is {SimulatedEpochSeconds}; it must be 0 (real training) or seconds per simulated epoch up to 86400");
        }

        if (TorchThreads is < 0 or > 4096)
        {
            throw new InvalidOperationException($"{SectionName}:TorchThreads is {TorchThreads}; it must be 0 (cores / slots) or a thread count up to 4096");
        }

        if (!double.IsFinite(ImageCacheMiB) || ImageCacheMiB < 0)
        {
            throw new InvalidOperationException($"{SectionName}:ImageCacheMiB is {ImageCacheMiB}; it must be 0 (40 % of memory) or the MiB of decoded images to keep");
        }
    }
}

/// <summary>How a fold's training ended.</summary>
public enum TrainingOutcome
{
    Completed,
    Cancelled,
    Failed,
}

/// <summary>
/// What a fold grain needs to train: run one fold's training off the caller's thread, handing each finished epoch (its
/// result and checkpoint) to <c>onEpoch</c>. <see cref="TrainingExecutor"/> is the real one; benchmarks and tests of the
/// coordination layer substitute a fast synthetic one.
/// </summary>
public interface IFoldTrainingRunner
{
    Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken);
}

/// <summary>
/// A runner's training slots: at most N trainings at once (a caller waits for a free one), and how many train now. Both
/// runners gate on it (<see cref="TrainingExecutor"/>, <see cref="FixedCostTrainer"/>).
/// </summary>
internal sealed class TrainingSlots(int slots) : IDisposable
{
    private readonly SemaphoreSlim _free = new(slots, slots);
    private int _busy;

    /// <summary>Trainings running now.</summary>
    public int Busy => Volatile.Read(ref _busy);

    /// <summary>Waits for a free slot; false when cancelled first (no slot is taken then).</summary>
    public async Task<bool> TakeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _free.WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A training holding a slot has begun.</summary>
    public void Started() => Interlocked.Increment(ref _busy);

    /// <summary>The training that began has ended: its slot is free.</summary>
    public void Ended()
    {
        Interlocked.Decrement(ref _busy);
        _free.Release();
    }

    public void Dispose() => _free.Dispose();
}

/// <summary>
/// Runs fold trainings on dedicated threads, at most <see cref="TrainingExecutorOptions.Slots"/> at a time. Callers
/// await a task; the training itself never runs on the caller's (e.g. an Orleans scheduler) thread.
/// </summary>
public sealed class TrainingExecutor : IFoldTrainingRunner, IDisposable
{
    private readonly TrainingSlots _slots;

    public TrainingExecutor(TrainingExecutorOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Slots, 1);
        Options = options;
        _slots = new TrainingSlots(options.Slots);
        TorchRuntime.SetThreads(options.TorchThreads > 0 ? options.TorchThreads : Math.Max(1, Environment.ProcessorCount / options.Slots));
        Data.DecodedImageStore.Shared.BudgetBytes = options.ImageCacheMiB > 0
            ? (long)Math.Min(options.ImageCacheMiB * 1024 * 1024, long.MaxValue)
            : Data.DecodedImageStore.DefaultBudgetBytes;
    }

    public TrainingExecutorOptions Options { get; }

    /// <summary>Trainings running now.</summary>
    public int Busy => _slots.Busy;

    /// <summary>Waits for a slot, then trains on a new thread; <paramref name="onEpoch"/> runs on that thread.</summary>
    public async Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
    {
        if (!await _slots.TakeAsync(cancellationToken).ConfigureAwait(false))
        {
            return (TrainingOutcome.Cancelled, null);
        }

        var done = new TaskCompletionSource<(TrainingOutcome, Exception?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            _slots.Started();
            try
            {
                FoldTrainer.Run(request, onEpoch, cancellationToken);
                done.SetResult((TrainingOutcome.Completed, null));
            }
            catch (OperationCanceledException)
            {
                done.SetResult((TrainingOutcome.Cancelled, null));
            }
            catch (Exception e)
            {
                done.SetResult((TrainingOutcome.Failed, e));
            }
            finally
            {
                _slots.Ended();
            }
        })
        {
            IsBackground = true,
            Name = $"aunce-train {request.Label}",
        };
        thread.Start();
        return await done.Task.ConfigureAwait(false);
    }

    public void Dispose() => _slots.Dispose();
}
