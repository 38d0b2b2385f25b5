using AunceSearch.Training;
using AunceSearch.Training.Evaluation;

namespace AunceSearch.Grains.Tests;

/// <summary>What synthetic trainers (behind <see cref="IFoldTrainingRunner"/>) hand back per epoch: metrics and a weightless checkpoint.</summary>
internal static class FakeEpochs
{
    /// <summary>The epoch a request starts at: after its resume checkpoint's epoch, else 1.</summary>
    public static int Start(FoldTrainingRequest request) => request.ResumeFrom is { } resume ? Checkpoint.ReadHeader(resume, request.Label).Epoch + 1 : 1;

    public static double Lr(FoldTrainingRequest request) => double.Parse(request.Hyperparameters["lr"], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Reports <paramref name="epoch"/> with F1 <paramref name="f1"/> on one AU.</summary>
    public static void Report(FoldTrainingRequest request, int epoch, double f1, Action<EpochResult, byte[]> onEpoch) =>
        onEpoch(new EpochResult(epoch, 1.0 / epoch, new AuMetrics(["AU1"], [f1], [0.6]), 1, 0.001), Checkpoint.WithoutWeights(new CheckpointHeader
        {
            Label = request.Label, Epoch = epoch, Seed = request.Seed, AuNames = ["AU1"], Model = request.Model, Hyperparameters = request.Hyperparameters,
        }));
}
