using System.Globalization;
using AunceSearch.Contracts;

namespace AunceSearch.Coordination;

/// <summary>The most checkpoint bytes a sweep can hold in its store at once, and how that number was reached.</summary>
/// <param name="CheckpointBytes">One fold's checkpoint (model, optimizer state, buffers).</param>
/// <param name="Checkpoints">How many such checkpoints can be stored at the peak.</param>
/// <param name="Basis">The count written out, e.g. "3 best trials x 3 folds x 1 epoch + 100 running or paused trials x 3 folds x 2 epochs".</param>
public sealed record CheckpointEstimate(long CheckpointBytes, long Checkpoints, string Basis)
{
    public long PeakBytes => CheckpointBytes * Checkpoints;

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"checkpoints: up to {Checkpoints} x {Bytes(CheckpointBytes)} = {Bytes(PeakBytes)} at the peak ({Basis})");

    /// <summary>Bytes in binary units, three significant figures ("1.75 GiB", "305 MiB").</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B") : string.Create(CultureInfo.InvariantCulture, $"{value:G3} {units[unit]}");
    }
}

/// <summary>
/// How many checkpoints a sweep can keep at once under its retention policy (<see cref="SweepDefinition.Retention"/>), as
/// the coordinator prunes them: an upper bound from the definition alone, so that a sweep that cannot fit its store is
/// refused before it starts instead of failing days in.
/// <list type="bullet">
/// <item><c>all</c>: every fold's every epoch of every trial.</item>
/// <item><c>best-k</c>: the latest epoch of the best k ended trials, plus the two latest epochs of every running or paused
/// trial — at most <c>max_concurrent_trials</c> run, but promotion schedulers (ASHA's promotion variant, synchronous
/// Hyperband) leave every trial that reached a rung paused, so there it is every trial; under PBT a running trial keeps
/// every epoch (its legs may be exploited from any of them).</item>
/// </list>
/// </summary>
public static class CheckpointBudget
{
    public static CheckpointEstimate Estimate(SweepDefinition definition, long checkpointBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(checkpointBytes);
        long trials = definition.Search.Trials;
        long folds = definition.Folds.Length;
        long epochs = definition.Training.Epochs;
        if (definition.Retention.Keep == RetentionKind.All)
        {
            return new CheckpointEstimate(checkpointBytes, trials * folds * epochs,
                $"keep: all — {N(trials, "trial")} x {N(folds, "fold")} x {N(epochs, "epoch")}");
        }

        var scheduler = definition.Search.Scheduler;
        var pausing = scheduler is AshaScheduling { Variant: AshaVariant.Promotion } or SynchronousHyperbandScheduling;
        var live = pausing ? trials : Math.Min(trials, definition.Search.MaxConcurrentTrials);
        var perLive = scheduler is PbtScheduling ? epochs : Math.Min(2, epochs);
        var best = Math.Min(trials, definition.Retention.K);
        var what = pausing ? "running or paused trial" : "running trial";
        return new CheckpointEstimate(checkpointBytes, (best * folds) + (live * folds * perLive),
            $"keep: best-k {definition.Retention.K} — {N(best, "best trial")} x {N(folds, "fold")} x 1 epoch + {N(live, what)} x {N(folds, "fold")} x {N(perLive, "epoch")}");
    }

    private static string N(long count, string noun) => string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? "" : "s")}");

    /// <summary>
    /// The verdict against a store's free bytes (null when the store cannot say, e.g. blob storage): a problem when the peak
    /// exceeds the free space, a warning when it takes more than half of it, otherwise null.
    /// </summary>
    public static (string? Problem, string? Warning) Judge(CheckpointEstimate estimate, long? freeBytes, string store)
    {
        if (freeBytes is not { } free)
        {
            return (null, null);
        }

        var room = $"{store} has {CheckpointEstimate.Bytes(free)} free";
        if (estimate.PeakBytes > free)
        {
            return ($"{estimate.Describe()}, but {room}: free space, keep fewer checkpoints (checkpoints: {{keep: best-k, k: 1}}), " +
                    "run fewer trials or folds at once, or use another store (Aunce:Checkpoints:Path)", null);
        }

        return estimate.PeakBytes > free / 2
            ? (null, $"{estimate.Describe()}: more than half of the {CheckpointEstimate.Bytes(free)} free in {store}; the sweep may not fit if anything else writes there")
            : (null, null);
    }
}
