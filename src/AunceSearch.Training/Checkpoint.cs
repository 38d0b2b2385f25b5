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

    public static byte[] Write(CheckpointHeader header, torch.nn.Module model, OptimizerHelper? optimizer)
    {
        using var ms = new MemoryStream();
        ms.Write(Magic);
        WriteSection(ms, JsonSerializer.SerializeToUtf8Bytes(header));
        using (var section = new MemoryStream())
        {
            model.save(section);
            WriteSection(ms, section.ToArray());
        }

        using (var section = new MemoryStream())
        {
            if (optimizer is not null)
            {
                using var writer = new BinaryWriter(section, Encoding.UTF8, leaveOpen: true);
                optimizer.save_state_dict(writer);
            }

            WriteSection(ms, section.ToArray());
        }

        return ms.ToArray();
    }

    public static CheckpointHeader ReadHeader(byte[] data, string source) =>
        JsonSerializer.Deserialize<CheckpointHeader>(Sections(data, source).Header.Span)
        ?? throw new InvalidDataException($"{source}: empty checkpoint header");

    /// <summary>Builds the encoder the checkpoint describes and loads its weights (on the CPU).</summary>
    public static (CheckpointHeader Header, SmallCnnEncoder Encoder) LoadEncoder(byte[] data, string source)
    {
        var header = ReadHeader(data, source);
        var encoder = EncoderFactory.Create(header.Model, header.AuNames.Count);
        using var ms = new MemoryStream(Sections(data, source).Model.ToArray());
        encoder.load(ms);
        return (header, encoder);
    }

    /// <summary>Loads model weights and optimizer state into existing objects (to resume training).</summary>
    public static CheckpointHeader Restore(byte[] data, string source, torch.nn.Module model, OptimizerHelper optimizer)
    {
        var (header, modelBytes, optimizerBytes) = Sections(data, source);
        using (var ms = new MemoryStream(modelBytes.ToArray()))
        {
            model.load(ms);
        }

        if (optimizerBytes.Length > 0)
        {
            using var ms = new MemoryStream(optimizerBytes.ToArray());
            using var reader = new BinaryReader(ms);
            optimizer.load_state_dict(reader);
        }

        return JsonSerializer.Deserialize<CheckpointHeader>(header.Span) ?? throw new InvalidDataException($"{source}: empty checkpoint header");
    }

    private static void WriteSection(Stream s, byte[] bytes)
    {
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(len, bytes.Length);
        s.Write(len);
        s.Write(bytes);
    }

    private static (ReadOnlyMemory<byte> Header, ReadOnlyMemory<byte> Model, ReadOnlyMemory<byte> Optimizer) Sections(byte[] data, string source)
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
        return (h, m, o);
    }
}
