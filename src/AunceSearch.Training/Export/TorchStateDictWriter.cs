using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using static TorchSharp.torch;

namespace AunceSearch.Training.Export;

/// <summary>
/// Writes a state dict in PyTorch's own file format, the one <c>torch.save(model.state_dict(), f)</c> writes and
/// <c>torch.load(f)</c> reads (PyTorch ≥ 1.6): a zip archive with <c>data.pkl</c> — a protocol-2 pickle of an
/// <c>OrderedDict</c> of tensors, each rebuilt by <c>torch._utils._rebuild_tensor_v2</c> from a storage named by a
/// persistent id — the storages' little-endian bytes under <c>data/N</c>, and <c>version</c>. The dict's
/// <c>_metadata</c> attribute (where PyTorch keeps a state dict's per-module metadata) carries ours under one key:
/// <c>torch.load(f)._metadata["aunce"]</c>. Only what a state dict needs is emitted: strings, ints, tuples, dicts.
/// </summary>
public static class TorchStateDictWriter
{
    private static readonly Dictionary<ScalarType, string> Storages = new()
    {
        [ScalarType.Float64] = "DoubleStorage",
        [ScalarType.Float32] = "FloatStorage",
        [ScalarType.Float16] = "HalfStorage",
        [ScalarType.BFloat16] = "BFloat16Storage",
        [ScalarType.Int64] = "LongStorage",
        [ScalarType.Int32] = "IntStorage",
        [ScalarType.Int16] = "ShortStorage",
        [ScalarType.Int8] = "CharStorage",
        [ScalarType.Byte] = "ByteStorage",
        [ScalarType.Bool] = "BoolStorage",
    };

    /// <summary>The archive's top-level folder (torch.load accepts any name; torch.save uses the file's stem).</summary>
    private const string Root = "archive";

    /// <summary>Writes <paramref name="tensors"/> (in order) and <paramref name="metadata"/> to <paramref name="output"/>.</summary>
    public static void Write(Stream output, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string> metadata, string metadataKey = "aunce")
    {
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        var pickle = new Pickle();
        pickle.Proto();
        pickle.NewOrderedDict();

        // BUILD sets the dict's attributes: {"_metadata": OrderedDict({metadataKey: {k: v, ...}})}.
        pickle.EmptyDict();
        pickle.String("_metadata");
        pickle.NewOrderedDict();
        pickle.String(metadataKey);
        pickle.EmptyDict();
        pickle.Mark();
        foreach (var (k, v) in metadata)
        {
            pickle.String(k);
            pickle.String(v);
        }

        pickle.SetItems();
        pickle.SetItem();
        pickle.SetItem();
        pickle.Build();

        pickle.Mark();
        for (var i = 0; i < tensors.Count; i++)
        {
            var (name, tensor) = tensors[i];
            using var cpu = tensor.detach().cpu().contiguous();
            if (!Storages.TryGetValue(cpu.dtype, out var storage))
            {
                throw new NotSupportedException($"tensor '{name}': dtype {cpu.dtype} has no PyTorch storage type here");
            }

            var key = i.ToString(CultureInfo.InvariantCulture);
            var entry = zip.CreateEntry($"{Root}/data/{key}", CompressionLevel.NoCompression);
            using (var s = entry.Open())
            {
                s.Write(cpu.bytes);
            }

            pickle.String(name);
            pickle.Global("torch._utils", "_rebuild_tensor_v2");
            pickle.Mark();
            pickle.Mark();
            pickle.String("storage");
            pickle.Global("torch", storage);
            pickle.String(key);
            pickle.String("cpu");
            pickle.Int(cpu.NumberOfElements);
            pickle.Tuple();
            pickle.BinPersId();
            pickle.Int(0);   // storage offset
            pickle.IntTuple(cpu.shape);
            pickle.IntTuple(cpu.stride());
            pickle.False();   // requires_grad
            pickle.NewOrderedDict();   // backward hooks: none
            pickle.Tuple();
            pickle.Reduce();
        }

        pickle.SetItems();
        pickle.Stop();

        var data = zip.CreateEntry($"{Root}/data.pkl", CompressionLevel.NoCompression);
        using (var s = data.Open())
        {
            s.Write(pickle.ToArray());
        }

        var version = zip.CreateEntry($"{Root}/version", CompressionLevel.NoCompression);
        using (var s = version.Open())
        {
            s.Write("3\n"u8);
        }

        var byteOrder = zip.CreateEntry($"{Root}/byteorder", CompressionLevel.NoCompression);
        using (var s = byteOrder.Open())
        {
            s.Write("little"u8);
        }
    }

    /// <summary>The pickle opcodes a state dict needs (protocol 2).</summary>
    private sealed class Pickle
    {
        private readonly MemoryStream _s = new();

        public byte[] ToArray() => _s.ToArray();

        public void Proto()
        {
            _s.WriteByte(0x80);
            _s.WriteByte(2);
        }

        public void Stop() => _s.WriteByte((byte)'.');

        public void Mark() => _s.WriteByte((byte)'(');

        public void Tuple() => _s.WriteByte((byte)'t');

        public void EmptyTuple() => _s.WriteByte((byte)')');

        public void EmptyDict() => _s.WriteByte((byte)'}');

        public void SetItem() => _s.WriteByte((byte)'s');

        public void SetItems() => _s.WriteByte((byte)'u');

        public void Build() => _s.WriteByte((byte)'b');

        public void Reduce() => _s.WriteByte((byte)'R');

        public void BinPersId() => _s.WriteByte((byte)'Q');

        public void False() => _s.WriteByte(0x89);

        public void Global(string module, string name)
        {
            _s.WriteByte((byte)'c');
            _s.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        }

        /// <summary>collections.OrderedDict() — REDUCE of the class on an empty tuple.</summary>
        public void NewOrderedDict()
        {
            Global("collections", "OrderedDict");
            EmptyTuple();
            Reduce();
        }

        public void String(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            _s.WriteByte((byte)'X');
            Span<byte> len = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)bytes.Length);
            _s.Write(len);
            _s.Write(bytes);
        }

        public void Int(long value)
        {
            if (value is >= 0 and < 256)
            {
                _s.WriteByte((byte)'K');
                _s.WriteByte((byte)value);
            }
            else if (value is >= int.MinValue and <= int.MaxValue)
            {
                _s.WriteByte((byte)'J');
                Span<byte> b = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(b, (int)value);
                _s.Write(b);
            }
            else
            {
                _s.WriteByte(0x8a);   // LONG1: 8 little-endian two's-complement bytes
                _s.WriteByte(8);
                Span<byte> b = stackalloc byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(b, value);
                _s.Write(b);
            }
        }

        public void IntTuple(IReadOnlyList<long> values)
        {
            Mark();
            foreach (var v in values)
            {
                Int(v);
            }

            Tuple();
        }
    }
}
