using AunceSearch.Model;
using AunceSearch.Training.Loss;
using AunceSearch.Training.Models;
using AunceSearch.Training.Optim;
using AunceSearch.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Tests;

/// <summary>
/// Checkpoints are written in one array of their exact size and restored straight from it (no per-tensor copies): what
/// comes back must be every weight, buffer and optimizer value exactly, into a model in either memory layout.
/// </summary>
[Collection(GlobalRngCollection.Name)]
public sealed class CheckpointRoundTripTests
{
    private static readonly ModelOptions Options = new() { Encoder = "resnet18", Width = 8, FeatureDim = 16, InputSize = 32 };

    private static CheckpointHeader Header => new()
    {
        Label = "round-trip/t000/f1", Epoch = 1, Seed = 1, AuNames = ["AU1", "AU2", "AU4", "AU6"], Model = Options,
        Hyperparameters = new Dictionary<string, string>(),
    };

    private static (nn.Module<Tensor, Tensor> Model, TrainingOptimizer Optimizer) Trained(long seed, bool channelsLast = false)
    {
        lock (TorchRuntime.GlobalRngLock)
        {
            torch.random.manual_seed(seed);
            var model = EncoderFactory.Create(Options, 4);
            if (channelsLast)
            {
                Accelerator.ToChannelsLast(model);
            }

            model.train();
            var optimizer = new TrainingOptimizer("flat-adamw", model.parameters().ToList(), 1e-3, 1e-2, channelsLast);
            using var scope = NewDisposeScope();
            var x = torch.randn(4, 3, 32, 32);
            var loss = new AunceLossOptions();
            optimizer.Step(AunceLoss.Compute(model.forward(x), model.forward(x.flip(3)), torch.rand(4, 4).lt(0.4).to(ScalarType.Float32),
                loss.DrawPositiveTypes(4, new Random(1)), loss));
            return (model, optimizer);
        }
    }

    [Fact]
    public void A_checkpoint_restores_every_weight_buffer_and_optimizer_value_exactly()
    {
        var (a, optA) = Trained(1);
        var (b, optB) = Trained(2);
        using (a)
        using (optA)
        using (b)
        using (optB)
        {
            var bytes = Checkpoint.Write(Header, a, optA.Save);
            Assert.Equal(ModelFootprint.Of(Options, 4).CheckpointBytes, bytes.LongLength, tolerance: bytes.Length * 0.1);
            Checkpoint.Restore(bytes, "a", b, r => optB.Load(r, "a"));
            Assert.Equal(bytes, Checkpoint.Write(Header, b, optB.Save));   // byte for byte, SHA-256 included
        }
    }

    [Fact]
    public void A_checkpoint_restores_into_a_channels_last_model_with_the_same_values()
    {
        var (a, optA) = Trained(1);
        var (b, optB) = Trained(2, channelsLast: true);
        using (a)
        using (optA)
        using (b)
        using (optB)
        {
            Checkpoint.Restore(Checkpoint.Write(Header, a, optA.Save), "a", b, (Action<BinaryReader>?)null);
            var expected = a.state_dict();
            var actual = b.state_dict();
            Assert.All(expected, kv => Assert.True(kv.Value.eq(actual[kv.Key]).all().item<bool>(), kv.Key));
            Assert.Contains(b.parameters(), p => !p.is_contiguous());   // the staged path ran: these are channels_last
        }
    }

    [Fact]
    public void A_state_dict_that_does_not_fit_is_refused_naming_the_tensor()
    {
        var (a, optA) = Trained(1);
        using (a)
        using (optA)
        {
            var bytes = Checkpoint.Write(Header, a, optA.Save);
            using var other = EncoderFactory.Create(Options with { Width = 16 }, 4);
            var e = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Restore(bytes, "a.ckpt", other, (Action<BinaryReader>?)null));
            Assert.Contains("a.ckpt: does not fit the model: tensor backbone.conv1.weight has shape [8, 3, 7, 7] in the checkpoint but [16, 3, 7, 7]", e.Message);
        }
    }
}
