using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AunceSearch.Training.Evaluation;

namespace AunceSearch.Training;

/// <summary>
/// Test seam, not for results: the fixed-cost trainer (<c>Aunce:Training:SimulatedEpochSeconds</c> &gt; 0): every epoch takes exactly that long (a
/// sleep: it uses no CPU, so a benchmark on a small machine measures the platform, not libtorch) and yields a metric that
/// depends only on the hyperparameters, the fold and the epoch. Checkpoints carry a header and no weights, so resuming,
/// retention and checksums behave as with real training. It is in the product so that the scale and chaos benchmarks run
/// real silo processes; nothing selects it but that setting.
/// </summary>
/// <param name="time">The clock the epochs wait on (the system's by default; a test observes the waits instead of timing them).</param>
public sealed class FixedCostTrainer(TimeSpan epochTime, int slots, TimeProvider? time = null) : IFoldTrainingRunner, IDisposable
{
    private readonly TrainingSlots _slots = new(slots);

    /// <summary>Trainings running now.</summary>
    public int Busy => _slots.Busy;

    public async Task<(TrainingOutcome Outcome, Exception? Error)> RunAsync(FoldTrainingRequest request, Action<EpochResult, byte[]> onEpoch, CancellationToken cancellationToken)
    {
        if (!await _slots.TakeAsync(cancellationToken).ConfigureAwait(false))
        {
            return (TrainingOutcome.Cancelled, null);
        }

        _slots.Started();
        try
        {
            var start = request.ResumeFrom is { } resume ? Checkpoint.ReadHeader(resume, request.Label).Epoch + 1 : 1;
            var quality = Quality(request.Hyperparameters, request.Seed);
            for (var epoch = start; epoch <= request.Epochs; epoch++)
            {
                await Task.Delay(epochTime, time ?? TimeProvider.System, cancellationToken).ConfigureAwait(false);
                var f1 = Math.Round(quality * (1 - Math.Exp(-epoch / 3.0)), 6);
                var metrics = new AuMetrics(["AU1"], [f1], [0.5 + (f1 / 2)]);
                var checkpoint = Checkpoint.WithoutWeights(new CheckpointHeader
                {
                    Label = request.Label, Epoch = epoch, Seed = request.Seed, AuNames = ["AU1"], Model = request.Model,
                    Hyperparameters = request.Hyperparameters, MeanF1 = f1, MeanAccuracy = metrics.MeanAccuracy,
                });
                onEpoch(new EpochResult(epoch, 1.0 / epoch, metrics, 1, epochTime.TotalSeconds, Baseline: new AuBaselines(["AU1"], [0.3], [0.5])), checkpoint);
            }

            return (TrainingOutcome.Completed, null);
        }
        catch (OperationCanceledException)
        {
            return (TrainingOutcome.Cancelled, null);
        }
        finally
        {
            _slots.Ended();
        }
    }

    /// <summary>A value in [0.4, 0.9] fixed by the hyperparameters and the fold's seed (a stable hash, the same on every machine).</summary>
    public static double Quality(IReadOnlyDictionary<string, string> hyperparameters, long seed)
    {
        var text = string.Join(";", hyperparameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")) +
                   $";seed={seed.ToString(CultureInfo.InvariantCulture)}";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return 0.4 + (0.5 * BitConverter.ToUInt32(hash, 0) / uint.MaxValue);
    }

    public void Dispose() => _slots.Dispose();
}
