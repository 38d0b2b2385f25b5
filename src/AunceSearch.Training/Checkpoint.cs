using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using AunceSearch.Training.Models;
using TorchSharp;
using TorchSharp.Modules;

namespace AunceSearch.Training;

/// <summary>What a checkpoint says about itself.</summary>
public sealed record CheckpointHeader
{
    public int FormatVersion { get; init; } = 1;

    public required string Label { get; init; }

    public required int Epoch { get; init; }

    public required long Seed { get; init; }

    public required IReadOnlyList<string> AuNames { get; init; }

    public required ModelOptions Model { get; init; }

    public required IReadOnlyDictionary<string, string> Hyperparameters { get; init; }

    public double? MeanF1 { get; init; }

    public double? MeanAccuracy { get; init; }
}

/// <summary>
/// The checkpoint file: magic <c>AUNCECK1</c>, then length-prefixed sections — a JSON header, the model's
/// TorchSharp state dict, the optimizer's state. Everything needed to resume training or to use the encoder.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = "AUNCECK1"u8.ToArray();

    public static byte[] Write(CheckpointHeader header, torch.nn.Module model, OptimizerHelper? optimizer) =>
        Write(header, model, optimizer is null ? null : w => optimizer.save_state_dict(w));

    /// <summary>
    /// Writes header, model and optimizer state (<paramref name="saveOptimizer"/> writes it), and for the WCE baseline
    /// its classifier as a fourth section.
    /// </summary>
    public static byte[] Write(CheckpointHeader header, torch.nn.Module model, Action<BinaryWriter>? saveOptimizer, torch.nn.Module? classifier = null)
    {
        using var ms = new MemoryStream();
        ms.Write(Magic);
        WriteSection(ms, JsonSerializer.SerializeToUtf8Bytes(header));
        WriteSection(ms, SaveModule(model));

        using (var section = new MemoryStream())
        {
            if (saveOptimizer is not null)
            {
                using var writer = new BinaryWriter(section, Encoding.UTF8, leaveOpen: true);
                saveOptimizer(writer);
            }

            WriteSection(ms, section.ToArray());
        }

        if (classifier is not null)
        {
            WriteSection(ms, SaveModule(classifier));
        }

        return ms.ToArray();
    }

    public static CheckpointHeader ReadHeader(byte[] data, string source) =>
        JsonSerializer.Deserialize<CheckpointHeader>(Sections(data, source).Header.Span)
        ?? throw new InvalidDataException($"{source}: empty checkpoint header");

    /// <summary>Builds the encoder the checkpoint describes and loads its weights (on the CPU).</summary>
    public static (CheckpointHeader Header, torch.nn.Module<torch.Tensor, torch.Tensor> Encoder) LoadEncoder(byte[] data, string source)
    {
        var header = ReadHeader(data, source);
        var encoder = EncoderFactory.Create(header.Model, header.AuNames.Count);
        using var ms = new MemoryStream(Sections(data, source).Model.ToArray());
        encoder.load(ms);
        return (header, encoder);
    }

    /// <summary>Loads model weights and optimizer state into existing objects (to resume training).</summary>
    public static CheckpointHeader Restore(byte[] data, string source, torch.nn.Module model, OptimizerHelper optimizer) =>
        Restore(data, source, model, r => optimizer.load_state_dict(r));

    /// <summary>Loads model weights, optimizer state (through <paramref name="loadOptimizer"/>) and the classifier if there is one.</summary>
    public static CheckpointHeader Restore(byte[] data, string source, torch.nn.Module model, Action<BinaryReader>? loadOptimizer,
        torch.nn.Module? classifier = null)
    {
        var (header, modelBytes, optimizerBytes, classifierBytes) = Sections(data, source);
        using (var ms = new MemoryStream(modelBytes.ToArray()))
        {
            model.load(ms);
        }

        if (optimizerBytes.Length > 0 && loadOptimizer is not null)
        {
            using var ms = new MemoryStream(optimizerBytes.ToArray());
            using var reader = new BinaryReader(ms);
            loadOptimizer(reader);
        }

        if (classifier is not null)
        {
            if (classifierBytes.Length == 0)
            {
                throw new InvalidDataException($"{source}: the checkpoint has no classifier (it was not trained with objective: wce)");
            }

            using var ms = new MemoryStream(classifierBytes.ToArray());
            classifier.load(ms);
        }

        return JsonSerializer.Deserialize<CheckpointHeader>(header.Span) ?? throw new InvalidDataException($"{source}: empty checkpoint header");
    }

    /// <summary>
    /// The module's TorchSharp state dict. Parameters laid out channels_last (or as views into an optimizer's flat buffer
    /// with such strides) are saved through contiguous copies and then pointed back at their own storage.
    /// </summary>
    private static byte[] SaveModule(torch.nn.Module module)
    {
        var relaid = new List<(torch.Tensor Parameter, torch.Tensor Original)>();
        using (torch.no_grad())
        {
            foreach (var (_, p) in module.named_parameters())
            {
                if (!p.is_contiguous())
                {
                    var original = p.detach();
                    p.set_(p.contiguous());
                    relaid.Add((p, original));
                }
            }
        }

        try
        {
            using var section = new MemoryStream();
            module.save(section);
            return section.ToArray();
        }
        finally
        {
            using (torch.no_grad())
            {
                foreach (var (p, original) in relaid)
                {
                    p.set_(original);
                    original.Dispose();
                }
            }
        }
    }

    /// <summary>Loads only the optimizer state (after <see cref="Restore(byte[], string, torch.nn.Module, Action{BinaryReader}?, torch.nn.Module?)"/> loaded the weights).</summary>
    public static void RestoreOptimizer(byte[] data, string source, Action<BinaryReader> loadOptimizer)
    {
        var optimizerBytes = Sections(data, source).Optimizer;
        if (optimizerBytes.Length > 0)
        {
            using var ms = new MemoryStream(optimizerBytes.ToArray());
            using var reader = new BinaryReader(ms);
            loadOptimizer(reader);
        }
    }

    private static void WriteSection(Stream s, byte[] bytes)
    {
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(len, bytes.Length);
        s.Write(len);
        s.Write(bytes);
    }

    private static (ReadOnlyMemory<byte> Header, ReadOnlyMemory<byte> Model, ReadOnlyMemory<byte> Optimizer, ReadOnlyMemory<byte> Classifier) Sections(byte[] data, string source)
    {
        if (data.Length < Magic.Length || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{source}: not an AunceSearch checkpoint (bad magic)");
        }

        var offset = Magic.Length;
        ReadOnlyMemory<byte> Next()
        {
            if (data.Length - offset < 8)
            {
                throw new InvalidDataException($"{source}: truncated checkpoint");
            }

            var n = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(offset, 8));
            if (n < 0 || n > data.Length - offset - 8)
            {
                throw new InvalidDataException($"{source}: truncated checkpoint");
            }

            var section = new ReadOnlyMemory<byte>(data, offset + 8, (int)n);
            offset += 8 + (int)n;
            return section;
        }

        var h = Next();
        var m = Next();
        var o = Next();
        var c = offset < data.Length ? Next() : ReadOnlyMemory<byte>.Empty;
        return (h, m, o, c);
    }
}
