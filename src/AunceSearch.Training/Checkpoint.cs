using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using AunceSearch.Model;
using AunceSearch.Training.Models;
using TorchSharp;
using TorchSharp.Modules;

namespace AunceSearch.Training;

/// <summary>A checkpoint is sound but does not fit the model it is loaded into (another width, encoder, AU count, …).</summary>
public sealed class CheckpointMismatchException(string message) : Exception(message);

/// <summary>One tensor of a stored state dict: its name, element type code and shape.</summary>
public sealed record StoredTensor(string Name, int TypeCode, long[] Shape);

/// <summary>
/// Reads the shapes out of TorchSharp's state-dict format (<c>Module.save</c>): a LEB128 count, then per tensor a
/// length-prefixed UTF-8 name, LEB128 element type, LEB128 rank, LEB128 dimensions and the raw data. Used to check a
/// checkpoint before any of it is loaded, so a damaged or mismatched one gets a message instead of a native error.
/// </summary>
public static class StateDictFormat
{
    public static IReadOnlyList<StoredTensor> ReadShapes(ReadOnlyMemory<byte> memory, string source) =>
        [.. Read(memory, source).Select(e => e.Tensor)];

    /// <summary>
    /// Copies every tensor of a state dict into <paramref name="module"/>'s parameter or buffer of the same name, straight
    /// from <paramref name="memory"/>: no per-tensor arrays (TorchSharp's own loader reads each tensor into a managed array
    /// first, a checkpoint's worth of garbage per resume). Names, types and shapes must match exactly.
    /// </summary>
    public static void Load(ReadOnlyMemory<byte> memory, torch.nn.Module module, string source)
    {
        var targets = module.state_dict();
        var entries = Read(memory, source);
        if (entries.Count != targets.Count || entries.FirstOrDefault(e => !targets.ContainsKey(e.Tensor.Name)) is { Tensor: { } extra })
        {
            throw new CheckpointMismatchException($"{source}: the state dict holds {entries.Count} tensors, the model {targets.Count}" +
                                                  (entries.Count > 0 && entries.Any(e => !targets.ContainsKey(e.Tensor.Name)) ? $" (not in the model: {entries.First(e => !targets.ContainsKey(e.Tensor.Name)).Tensor.Name})" : ""));
        }

        var writable = System.Runtime.InteropServices.MemoryMarshal.AsMemory(memory);
        using var _ = torch.no_grad();
        foreach (var (stored, offset, length) in entries)
        {
            var target = targets[stored.Name];
            if ((int)target.dtype != stored.TypeCode || !target.shape.SequenceEqual(stored.Shape) || target.numel() * target.element_size() != length)
            {
                throw new CheckpointMismatchException($"{source}: tensor {stored.Name} is {stored.TypeCode}/[{string.Join(", ", stored.Shape)}] in the checkpoint " +
                                                      $"but {(int)target.dtype}/[{string.Join(", ", target.shape)}] in the model");
            }

            var bytes = writable.Span.Slice(offset, (int)length);
            if (target.device_type == DeviceType.CPU && target.is_contiguous())
            {
                target.bytes = bytes;
            }
            else
            {
                using var staged = torch.empty(target.shape, target.dtype);   // channels_last or on a GPU: through a contiguous copy
                staged.bytes = bytes;
                target.copy_(staged);
            }
        }
    }

    private static List<(StoredTensor Tensor, int Offset, long Length)> Read(ReadOnlyMemory<byte> memory, string source)
    {
        var offset = 0;
        var data = memory;
        long Leb()
        {
            long value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (offset >= data.Length)
                {
                    throw new InvalidDataException($"{source}: truncated state dict");
                }

                var b = data.Span[offset++];
                value |= (long)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                {
                    return value;
                }
            }

            throw new InvalidDataException($"{source}: damaged state dict (bad integer)");
        }

        var count = Leb();
        if (count is < 0 or > 1_000_000)
        {
            throw new InvalidDataException($"{source}: damaged state dict ({count} tensors)");
        }

        var tensors = new List<(StoredTensor, int, long)>((int)count);
        for (var i = 0; i < count; i++)
        {
            var nameLength = Leb();
            if (nameLength < 0 || nameLength > data.Length - offset)
            {
                throw new InvalidDataException($"{source}: truncated state dict (tensor {i + 1} of {count})");
            }

            var name = Encoding.UTF8.GetString(data.Span.Slice(offset, (int)nameLength));
            offset += (int)nameLength;
            var type = (int)Leb();
            var size = type switch
            {
                0 or 1 or 11 => 1,
                2 or 5 or 15 => 2,
                3 or 6 => 4,
                4 or 7 => 8,
                _ => throw new InvalidDataException($"{source}: damaged state dict (tensor {name} has unknown element type {type})"),
            };
            var rank = Leb();
            if (rank is < 0 or > 16)
            {
                throw new InvalidDataException($"{source}: damaged state dict (tensor {name} has rank {rank})");
            }

            var shape = new long[rank];
            long elements = 1;
            for (var d = 0; d < rank; d++)
            {
                shape[d] = Leb();
                if (shape[d] < 0 || (shape[d] > 0 && elements > long.MaxValue / shape[d]))
                {
                    throw new InvalidDataException($"{source}: damaged state dict (tensor {name} has dimension {shape[d]})");
                }

                elements *= shape[d];
            }

            if (elements > (data.Length - offset) / size)
            {
                throw new InvalidDataException($"{source}: truncated state dict (tensor {name} {string.Join("x", shape)} is cut short)");
            }

            tensors.Add((new StoredTensor(name, type, shape), offset, elements * size));
            offset += (int)(elements * size);
        }

        return offset == data.Length ? tensors : throw new InvalidDataException($"{source}: damaged state dict ({data.Length - offset} bytes after the last tensor)");
    }
}

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
/// The checkpoint file: magic <c>AUNCECK2</c>, then length-prefixed sections — a JSON header, the model's
/// TorchSharp state dict, the optimizer's state — and the SHA-256 of everything before it (32 bytes), checked on every
/// read: a flipped bit anywhere is found, not only a cut. Everything needed to resume training or to use the encoder.
/// Files written before the digest (magic <c>AUNCECK1</c>, no trailer) are still read.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = "AUNCECK2"u8.ToArray();

    private static readonly byte[] MagicV1 = "AUNCECK1"u8.ToArray();

    private const int DigestLength = 32;

    public static byte[] Write(CheckpointHeader header, torch.nn.Module model, OptimizerHelper? optimizer) =>
        Write(header, model, optimizer is null ? null : w => optimizer.save_state_dict(w));

    /// <summary>
    /// Writes header, model and optimizer state (<paramref name="saveOptimizer"/> writes it), and for the WCE baseline
    /// its classifier as a fourth section. Each section is first written to a stream that only counts its bytes; then the
    /// checkpoint is built in one array of its exact size and hashed in place: the memory it takes beyond the model is
    /// the checkpoint itself (a growing MemoryStream per section and the copies between them held 5.4x a ResNet-50's
    /// checkpoint at once, measured). A byte array caps a checkpoint at 2 GiB: larger ones are refused, naming the size.
    /// </summary>
    public static byte[] Write(CheckpointHeader header, torch.nn.Module model, Action<BinaryWriter>? saveOptimizer, torch.nn.Module? classifier = null)
    {
        var headerBytes = JsonSerializer.SerializeToUtf8Bytes(header);
        var sections = new List<(long Length, Action<Stream> Write)>
        {
            (headerBytes.Length, s => s.Write(headerBytes)),
            (0, s => SaveModule(model, s)),
            (0, s =>
            {
                if (saveOptimizer is not null)
                {
                    using var writer = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
                    saveOptimizer(writer);
                }
            }),
        };
        if (classifier is not null)
        {
            sections.Add((0, s => SaveModule(classifier, s)));
        }

        for (var i = 1; i < sections.Count; i++)
        {
            using var counter = new SectionStream(null);
            sections[i].Write(counter);
            sections[i] = (counter.Written, sections[i].Write);
        }

        var total = Magic.Length + sections.Sum(x => 8 + x.Length) + DigestLength;
        if (total > Array.MaxLength)
        {
            throw new InvalidOperationException($"{header.Label}: a checkpoint of {total} bytes is over the {Array.MaxLength} bytes one array holds");
        }

        var buffer = GC.AllocateUninitializedArray<byte>((int)total);
        using (var target = new SectionStream(new MemoryStream(buffer, writable: true)))
        {
            target.Write(Magic);
            Span<byte> length = stackalloc byte[8];
            foreach (var (expected, write) in sections)
            {
                BinaryPrimitives.WriteInt64LittleEndian(length, expected);
                target.Write(length);
                var start = target.Written;
                write(target);
                if (target.Written - start != expected)
                {
                    throw new InvalidOperationException($"{header.Label}: a checkpoint section wrote {target.Written - start} bytes, {expected} the first time");
                }
            }
        }

        var body = buffer.AsSpan(0, buffer.Length - DigestLength);
        System.Security.Cryptography.SHA256.HashData(body, buffer.AsSpan(body.Length));
        return buffer;
    }

    /// <summary>Appends the SHA-256 of what the stream holds and returns the bytes.</summary>
    private static byte[] Sealed(MemoryStream ms)
    {
        var digest = System.Security.Cryptography.SHA256.HashData(ms.GetBuffer().AsSpan(0, (int)ms.Length));
        ms.Write(digest);
        return ms.ToArray();
    }

    /// <summary>A write-only stream that counts what is written and passes it on (or nowhere); disposing it leaves the target open.</summary>
    private sealed class SectionStream(Stream? target) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Written;

        public override long Position
        {
            get => Written;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            target?.Write(buffer);
            Written += buffer.Length;
        }

        public override void WriteByte(byte value)
        {
            target?.WriteByte(value);
            Written++;
        }

        public override void Flush() => target?.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    public static CheckpointHeader ReadHeader(byte[] data, string source) => ParseHeader(Sections(data, source).Header, source);

    /// <summary>
    /// A well-formed checkpoint with a header and no tensors: what a synthetic trainer (benchmarks and tests of the
    /// coordination layer, which train nothing) hands back, so resuming and inspection behave as with real ones.
    /// </summary>
    public static byte[] WithoutWeights(CheckpointHeader header)
    {
        using var ms = new MemoryStream();
        ms.Write(Magic);
        WriteSection(ms, JsonSerializer.SerializeToUtf8Bytes(header));
        WriteSection(ms, [0]);   // a state dict of zero tensors
        WriteSection(ms, []);
        return Sealed(ms);
    }

    private static CheckpointHeader ParseHeader(ReadOnlyMemory<byte> header, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<CheckpointHeader>(header.Span) ?? throw new InvalidDataException($"{source}: empty checkpoint header");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: damaged checkpoint header ({e.Message})");
        }
    }

    /// <summary>
    /// Checks a checkpoint end to end without loading it into a model: magic, every section's length, the header, and the
    /// model's state dict (every tensor's name, type and shape, and that its data is all there). Returns the header and
    /// the tensors' shapes; throws <see cref="InvalidDataException"/> saying what is wrong (empty, bad magic, truncated, …).
    /// </summary>
    public static (CheckpointHeader Header, IReadOnlyList<StoredTensor> Tensors) Inspect(byte[] data, string source)
    {
        if (data.Length == 0)
        {
            throw new InvalidDataException($"{source}: empty file (0 bytes), not a checkpoint");
        }

        var sections = Sections(data, source);
        var header = ParseHeader(sections.Header, source);
        return (header, StateDictFormat.ReadShapes(sections.Model, $"{source} (model section)"));
    }

    /// <summary>
    /// Throws <see cref="CheckpointMismatchException"/> naming the first tensor whose name or shape differs between the
    /// checkpoint and <paramref name="model"/>, with both shapes, and the model settings that differ (checkpoint vs now).
    /// </summary>
    public static void CheckFits(byte[] data, string source, torch.nn.Module model, ModelOptions? expected)
    {
        var (header, stored) = Inspect(data, source);
        var wanted = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var have = stored.ToDictionary(t => t.Name, t => t.Shape);
        string? problem = null;
        foreach (var (name, shape) in wanted)
        {
            if (!have.TryGetValue(name, out var saved))
            {
                problem = $"tensor {name} (shape {Shape(shape)}) is not in the checkpoint";
                break;
            }

            if (!saved.SequenceEqual(shape))
            {
                problem = $"tensor {name} has shape {Shape(saved)} in the checkpoint but {Shape(shape)} in the model built now";
                break;
            }
        }

        problem ??= have.Keys.FirstOrDefault(k => !wanted.ContainsKey(k)) is { } extra ? $"the checkpoint holds tensor {extra}, which the model built now does not have" : null;
        if (problem is null)
        {
            return;
        }

        var differences = expected is null ? [] : ModelDifferences(header.Model, expected);
        throw new CheckpointMismatchException($"{source}: does not fit the model: {problem}" +
            (differences.Count > 0 ? $"; the checkpoint was trained with {string.Join(", ", differences)}" : ""));
    }

    /// <summary>The model settings that differ, as "model.width 8 (now 16)" with the spec's names.</summary>
    public static List<string> ModelDifferences(ModelOptions stored, ModelOptions now)
    {
        var a = JsonSerializer.SerializeToElement(stored, SpecNames);
        var b = JsonSerializer.SerializeToElement(now, SpecNames);
        var differences = new List<string>();
        foreach (var p in a.EnumerateObject())
        {
            var other = b.TryGetProperty(p.Name, out var v) ? v.GetRawText() : "null";
            if (p.Value.GetRawText() != other)
            {
                differences.Add($"model.{p.Name} {p.Value.GetRawText().Trim('"')} (now {other.Trim('"')})");
            }
        }

        return differences;
    }

    private static readonly JsonSerializerOptions SpecNames = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static string Shape(IEnumerable<long> shape) => $"[{string.Join(", ", shape)}]";

    /// <summary>Builds the encoder the checkpoint describes and loads its weights (on the CPU).</summary>
    public static (CheckpointHeader Header, torch.nn.Module<torch.Tensor, torch.Tensor> Encoder) LoadEncoder(byte[] data, string source)
    {
        var header = ReadHeader(data, source);
        var encoder = EncoderFactory.Create(header.Model, header.AuNames.Count);
        StateDictFormat.Load(Sections(data, source).Model, encoder, source);
        return (header, encoder);
    }

    /// <summary>Loads model weights and optimizer state into existing objects (to resume training).</summary>
    public static CheckpointHeader Restore(byte[] data, string source, torch.nn.Module model, OptimizerHelper optimizer) =>
        Restore(data, source, model, r => optimizer.load_state_dict(r));

    /// <summary>Loads model weights, optimizer state (through <paramref name="loadOptimizer"/>) and the classifier if there is one.</summary>
    public static CheckpointHeader Restore(byte[] data, string source, torch.nn.Module model, Action<BinaryReader>? loadOptimizer,
        torch.nn.Module? classifier = null)
    {
        CheckFits(data, source, model, null);
        var (header, modelBytes, optimizerBytes, classifierBytes) = Sections(data, source);
        StateDictFormat.Load(modelBytes, model, source);

        if (optimizerBytes.Length > 0 && loadOptimizer is not null)
        {
            using var ms = Reader(optimizerBytes);
            using var reader = new BinaryReader(ms);
            loadOptimizer(reader);
        }

        if (classifier is not null)
        {
            if (classifierBytes.Length == 0)
            {
                throw new InvalidDataException($"{source}: the checkpoint has no classifier (it was not trained with objective: wce)");
            }

            StateDictFormat.Load(classifierBytes, classifier, source);
        }

        return ParseHeader(header, source);
    }

    /// <summary>
    /// The module's TorchSharp state dict. Parameters laid out channels_last (or as views into an optimizer's flat buffer
    /// with such strides) are saved through contiguous copies and then pointed back at their own storage.
    /// </summary>
    private static void SaveModule(torch.nn.Module module, Stream destination)
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
            module.save(destination);
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
            using var ms = Reader(optimizerBytes);
            using var reader = new BinaryReader(ms);
            loadOptimizer(reader);
        }
    }

    /// <summary>A read-only stream over a section of the checkpoint's own array (no copy).</summary>
    private static MemoryStream Reader(ReadOnlyMemory<byte> section) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(section, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false, publiclyVisible: true)   // readers may take spans of it
            : new MemoryStream(section.ToArray(), writable: false);

    private static void WriteSection(Stream s, byte[] bytes)
    {
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(len, bytes.Length);
        s.Write(len);
        s.Write(bytes);
    }

    private static (ReadOnlyMemory<byte> Header, ReadOnlyMemory<byte> Model, ReadOnlyMemory<byte> Optimizer, ReadOnlyMemory<byte> Classifier) Sections(byte[] whole, string source)
    {
        ReadOnlyMemory<byte> data;
        if (whole.Length >= Magic.Length && whole.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            if (whole.Length < Magic.Length + DigestLength)
            {
                throw new InvalidDataException($"{source}: truncated checkpoint");
            }

            data = whole.AsMemory(0, whole.Length - DigestLength);
            var stored = whole.AsSpan(whole.Length - DigestLength);
            var computed = System.Security.Cryptography.SHA256.HashData(data.Span);
            if (!computed.AsSpan().SequenceEqual(stored))
            {
                throw new InvalidDataException($"{source}: SHA-256 mismatch (stored {Convert.ToHexStringLower(stored)}, computed {Convert.ToHexStringLower(computed)}): " +
                                               "its bytes changed after it was written (truncated, or corrupted in storage or transfer)");
            }
        }
        else if (whole.Length >= MagicV1.Length && whole.AsSpan(0, MagicV1.Length).SequenceEqual(MagicV1))
        {
            data = whole;   // written before checkpoints carried a digest
        }
        else
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

            var n = BinaryPrimitives.ReadInt64LittleEndian(data.Span.Slice(offset, 8));
            if (n < 0 || n > data.Length - offset - 8)
            {
                throw new InvalidDataException($"{source}: truncated checkpoint");
            }

            var section = data.Slice(offset + 8, (int)n);
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
