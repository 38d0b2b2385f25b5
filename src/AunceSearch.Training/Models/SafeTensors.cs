using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Models;

/// <summary>A safetensors file is malformed or does not fit the model; the message names the file and the tensor.</summary>
public sealed class SafeTensorsException(string message) : Exception(message);

/// <summary>What loading pretrained weights did.</summary>
public sealed record PretrainedLoadReport(int Loaded, IReadOnlyList<string> Ignored, string Layout);

/// <summary>
/// Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header naming each tensor's
/// dtype, shape and byte range, then the raw little-endian data) and loads backbone weights by name. Files exported from
/// PyTorch with torchvision or timm state-dict names load as they are:
/// <c>save_file(torchvision.models.resnet50(weights="IMAGENET1K_V2").state_dict(), "resnet50.safetensors")</c>.
/// </summary>
public static partial class SafeTensors
{
    private static readonly Dictionary<string, (ScalarType Type, int Size)> DTypes = new(StringComparer.Ordinal)
    {
        ["F64"] = (ScalarType.Float64, 8),
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["I64"] = (ScalarType.Int64, 8),
        ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2),
        ["I8"] = (ScalarType.Int8, 1),
        ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>Reads every tensor of a file (on the CPU, in the file's dtypes).</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new SafeTensorsException($"{path}: file not found");
        }

        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
        {
            throw new SafeTensorsException($"{path}: too short for a safetensors file ({bytes.Length} bytes)");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
        {
            throw new SafeTensorsException($"{path}: header length {headerLength} exceeds the file size; not a safetensors file or truncated");
        }

        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))?.AsObject()
                ?? throw new SafeTensorsException($"{path}: empty header");
        }
        catch (JsonException e)
        {
            throw new SafeTensorsException($"{path}: the header is not valid JSON ({e.Message})");
        }

        var dataStart = 8 + (long)headerLength;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                continue;
            }

            try
            {
                var dtypeName = node?["dtype"]?.GetValue<string>() ?? throw new SafeTensorsException($"{path}: tensor '{name}' has no dtype");
                if (!DTypes.TryGetValue(dtypeName, out var dtype))
                {
                    throw new SafeTensorsException($"{path}: tensor '{name}' has unsupported dtype {dtypeName}");
                }

                var shape = node["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                var offsets = node["data_offsets"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                var count = shape.Aggregate(1L, (a, b) => a * b);
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || dataStart + offsets[1] > bytes.Length
                    || offsets[1] - offsets[0] != count * dtype.Size)
                {
                    throw new SafeTensorsException(
                        $"{path}: tensor '{name}' ({dtypeName} [{string.Join(", ", shape)}]) has byte range [{string.Join(", ", offsets)}] that does not fit its shape or the file");
                }

                var t = torch.empty(shape, dtype.Type);
                t.bytes = bytes.AsSpan((int)(dataStart + offsets[0]), (int)(offsets[1] - offsets[0]));

                tensors[name] = t.DetachFromDisposeScope();
            }
            catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException)
            {
                throw new SafeTensorsException($"{path}: tensor '{name}' has a malformed header entry ({e.Message})");
            }
        }

        return tensors;
    }

    /// <summary>Writes tensors (moved to the CPU, contiguous) to a safetensors file, atomically.</summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is not null)
        {
            header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        }

        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            using var cpu = tensor.detach().cpu().contiguous();
            var dtypeName = DTypes.First(kv => kv.Value.Type == cpu.dtype).Key;
            var data = cpu.bytes.ToArray();

            header[name] = new JsonObject
            {
                ["dtype"] = dtypeName,
                ["shape"] = new JsonArray([.. cpu.shape.Select(s => (JsonNode?)JsonValue.Create(s))]),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + data.Length)),
            };
            offset += data.Length;
            blobs.Add(data);
        }

        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;   // the format allows trailing spaces; 8-byte alignment of the data
        var tmp = path + ".tmp";
        using (var fs = File.Create(tmp))
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            fs.Write(len);
            fs.Write(json);
            for (var i = json.Length; i < padded; i++)
            {
                fs.WriteByte((byte)' ');
            }

            foreach (var b in blobs)
            {
                fs.Write(b);
            }
        }

        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>
    /// Loads a backbone's weights from <paramref name="path"/>. Keys may carry a <c>module.</c>, <c>model.</c>,
    /// <c>backbone.</c> or <c>encoder.</c> prefix; classifier weights (<c>fc.*</c>, <c>head.*</c>) and derived buffers
    /// (<c>relative_position_index</c>, <c>attn_mask</c>) are ignored; timm's Swin layout (patch merging at the start of
    /// the next stage) is mapped to the original's. Every parameter and buffer of the backbone must be found with its
    /// shape; anything else in the file is an error, so a wrong file never loads half-way.
    /// </summary>
    public static PretrainedLoadReport LoadBackbone(torch.nn.Module backbone, string path)
    {
        var file = Read(path);
        try
        {
            var names = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (k, v) in file)
            {
                var key = StripPrefix(k);
                if (!names.TryAdd(key, v))
                {
                    throw new SafeTensorsException($"{path}: tensors '{k}' and another one map to the same name '{key}'");
                }
            }

            var targets = backbone.named_parameters().Select(p => (p.name, (Tensor)p.parameter))
                .Concat(backbone.named_buffers().Select(b => (b.name, b.buffer))).ToList();
            var targetNames = targets.Select(t => t.name).ToHashSet(StringComparer.Ordinal);
            var layout = "torchvision/original";
            if (targetNames.Contains("layers.0.downsample.reduction.weight") && !names.ContainsKey("layers.0.downsample.reduction.weight")
                && names.ContainsKey("layers.1.downsample.reduction.weight"))
            {
                layout = "timm";
                names = names.ToDictionary(kv => TimmDownsample().Replace(kv.Key, m =>
                    $"layers.{int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) - 1}.downsample."), kv => kv.Value, StringComparer.Ordinal);
            }

            var ignored = names.Keys.Where(k => !targetNames.Contains(k) && IsIgnorable(k)).Order(StringComparer.Ordinal).ToList();
            var unexpected = names.Keys.Where(k => !targetNames.Contains(k) && !IsIgnorable(k)).Order(StringComparer.Ordinal).ToList();
            var missing = targets.Where(t => !names.ContainsKey(t.name) && !t.name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
                .Select(t => t.name).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
            {
                throw new SafeTensorsException(
                    $"{path}: does not fit the {backbone.GetName()} backbone: " +
                    (missing.Count > 0 ? $"{missing.Count} tensor(s) missing (e.g. {string.Join(", ", missing.Take(3))})" : "") +
                    (missing.Count > 0 && unexpected.Count > 0 ? "; " : "") +
                    (unexpected.Count > 0 ? $"{unexpected.Count} unexpected tensor(s) (e.g. {string.Join(", ", unexpected.Take(3))})" : ""));
            }

            foreach (var (name, target) in targets)
            {
                if (!names.TryGetValue(name, out var source))
                {
                    continue;
                }

                if (!source.shape.SequenceEqual(target.shape))
                {
                    throw new SafeTensorsException(
                        $"{path}: tensor '{name}' has shape [{string.Join(", ", source.shape)}] but the model expects [{string.Join(", ", target.shape)}]");
                }
            }

            var loaded = 0;
            using (torch.no_grad())
            {
                foreach (var (name, target) in targets)
                {
                    if (names.TryGetValue(name, out var source))
                    {
                        target.copy_(source.to(target.dtype));
                        loaded++;
                    }
                }
            }

            return new PretrainedLoadReport(loaded, ignored, layout);
        }
        finally
        {
            foreach (var t in file.Values)
            {
                t.Dispose();
            }
        }
    }

    private static string StripPrefix(string key)
    {
        foreach (var prefix in new[] { "module.", "model.", "backbone.", "encoder." })
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                return StripPrefix(key[prefix.Length..]);
            }
        }

        return key;
    }

    private static bool IsIgnorable(string key) =>
        key.StartsWith("fc.", StringComparison.Ordinal) || key.StartsWith("head.", StringComparison.Ordinal)
        || key.EndsWith("relative_position_index", StringComparison.Ordinal) || key.EndsWith("attn_mask", StringComparison.Ordinal)
        || key.EndsWith("num_batches_tracked", StringComparison.Ordinal);

    [GeneratedRegex(@"^layers\.(\d+)\.downsample\.")]
    private static partial Regex TimmDownsample();
}
