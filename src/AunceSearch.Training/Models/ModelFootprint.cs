using AunceSearch.Model;
using TorchSharp;

namespace AunceSearch.Training.Models;

/// <summary>What one encoder weighs: its parameters and buffers, and so the checkpoint a fold writes of it.</summary>
/// <param name="Tensors">Parameters and buffers: each is named and framed once in the model section and (parameters) twice more in the optimizer's.</param>
public sealed record ModelFootprint(long Parameters, long ParameterBytes, long BufferBytes, int Tensors)
{
    /// <summary>Framing per stored tensor (name, type, shape) in TorchSharp's state-dict format, a generous round figure.</summary>
    public const int FramingPerTensor = 256;

    /// <summary>
    /// A fold's checkpoint: the model's parameters and buffers, AdamW's two moments per parameter (both optimizers keep
    /// them in the parameters' type), and framing; the header and hash are a few hundred bytes.
    /// </summary>
    public long CheckpointBytes => (3 * ParameterBytes) + BufferBytes + (3L * Tensors * FramingPerTensor) + 4096;

    /// <summary>Builds the encoder on the CPU once, counts, and frees it (a Swin-B is about 350 MB for the moment).</summary>
    public static ModelFootprint Of(ModelOptions options, int auCount)
    {
        Runtime.TorchRuntime.EnsureInitialized();
        lock (Runtime.TorchRuntime.GlobalRngLock)
        {
            using var scope = torch.NewDisposeScope();
            using var model = EncoderFactory.Create(options, auCount);
            long parameters = 0, parameterBytes = 0, bufferBytes = 0;
            var tensors = 0;
            foreach (var p in model.parameters())
            {
                parameters += p.numel();
                parameterBytes += p.numel() * p.element_size();
                tensors++;
            }

            foreach (var b in model.buffers())
            {
                bufferBytes += b.numel() * b.element_size();
                tensors++;
            }

            return new ModelFootprint(parameters, parameterBytes, bufferBytes, tensors);
        }
    }
}
