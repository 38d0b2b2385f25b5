using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using AunceSearch.Training.Models;
using static TorchSharp.torch;

namespace AunceSearch.Training.Export;

/// <summary>What a checkpoint is exported as.</summary>
public enum ExportFormat
{
    /// <summary>PyTorch's file format: <c>torch.load</c> gives the encoder's state dict.</summary>
    Pt,

    /// <summary>safetensors, with the configuration in its <c>__metadata__</c>.</summary>
    Safetensors,

    /// <summary>The checkpoint as stored (AunceSearch's own container: header, weights, optimizer state).</summary>
    Native,
}

/// <summary>The exported file: where, its size and SHA-256, and how many tensors it holds (0 for native).</summary>
public sealed record ExportResult(string Path, long Bytes, string Sha256, int Tensors);

/// <summary>
/// Exports a checkpoint's encoder for use outside AunceSearch. Tensor names are the encoder's state-dict names:
/// <c>backbone.*</c> is the torchvision (ResNet) or original Swin layout — strip the prefix and
/// <c>torchvision.models.resnet50().load_state_dict(sd, strict=False)</c> takes it — and <c>global_linear.*</c>,
/// <c>head.*</c> are the AUNCE reference's (ME-GraphAU's ANFL). Both formats carry the same metadata: the trial's
/// hyperparameters, the model options and the AU names (JSON strings), the epoch, seed, metrics and where it came from.
/// The checkpoint is checked first (a damaged one is an <see cref="InvalidDataException"/> naming it); the file is
/// written to a temporary name and renamed, so a failed export leaves nothing half-written.
/// </summary>
/// <summary>Why a path cannot be written as an export; <paramref name="MissingDirectory"/> when only its directory is missing (it may be created).</summary>
public sealed record OutputProblem(string Message, bool MissingDirectory);

public static class CheckpointExport
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static ExportResult Export(byte[] checkpoint, string source, ExportFormat format, string path, IReadOnlyDictionary<string, string>? origin = null)
    {
        var (header, stored) = Checkpoint.Inspect(checkpoint, source);   // damaged or not a checkpoint: an error naming the source
        if (stored.Count == 0)
        {
            throw new InvalidDataException($"{source}: holds no model weights (a checkpoint written without them); nothing to export");
        }

        var full = System.IO.Path.GetFullPath(path);
        if (CheckOutput(full) is { } problem)
        {
            throw new IOException(problem.Message);
        }

        RemoveStaleTemporaries(full);
        var tmp = $"{full}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var count = 0;
        try
        {
            if (format == ExportFormat.Native)
            {
                File.WriteAllBytes(tmp, checkpoint);
            }
            else
            {
                var (_, encoder) = Checkpoint.LoadEncoder(checkpoint, source);
                using (encoder)
                {
                    var tensors = StateDict(encoder);
                    count = tensors.Count;
                    var metadata = Metadata(header, origin);
                    if (format == ExportFormat.Safetensors)
                    {
                        SafeTensors.Write(tmp, tensors, metadata);
                    }
                    else
                    {
                        using var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write);
                        TorchStateDictWriter.Write(file, tensors, metadata);
                    }
                }
            }

            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp))
            {
                File.Delete(tmp);
            }
        }

        using var stream = File.OpenRead(full);
        return new ExportResult(full, stream.Length, Convert.ToHexStringLower(SHA256.HashData(stream)), count);
    }

    /// <summary>
    /// Why <paramref name="path"/> cannot be written as an export, or null: it is a directory, or its directory does not
    /// exist (nothing creates one unasked: a typo in a path must not grow a tree) or is a file.
    /// </summary>
    public static OutputProblem? CheckOutput(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full)!;
        return Directory.Exists(full) ? new($"{full} is a directory; give the file to write, e.g. {System.IO.Path.Combine(full, "model.pt")}", false)
            : File.Exists(directory) ? new($"{directory} is a file, not a directory", false)
            : !Directory.Exists(directory) ? new($"the directory {directory} does not exist", true)
            : null;
    }

    /// <summary>
    /// Deletes what an export to <paramref name="full"/> killed mid-write left (<c>NAME.tmp-PID-GUID</c> of a process that is
    /// no longer running); a running export's temporary file is left alone.
    /// </summary>
    private static void RemoveStaleTemporaries(string full)
    {
        var prefix = System.IO.Path.GetFileName(full) + ".tmp-";
        foreach (var file in Directory.EnumerateFiles(System.IO.Path.GetDirectoryName(full)!, prefix + "*"))
        {
            var rest = System.IO.Path.GetFileName(file)[prefix.Length..];
            if (rest.Split('-') is [var pid, { Length: 32 }] && int.TryParse(pid, out var id) && !Running(id))
            {
                try
                {
                    File.Delete(file);
                }
                catch (IOException)
                {
                    // Gone already, or not ours to delete: harmless.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }

        static bool Running(int pid)
        {
            try
            {
                using var p = System.Diagnostics.Process.GetProcessById(pid);
                return !p.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }
    }

    /// <summary>Parameters then buffers, by name, as <c>Module.state_dict()</c> orders them in PyTorch (per module, depth first).</summary>
    public static List<(string Name, Tensor Tensor)> StateDict(nn.Module module) =>
        [.. module.state_dict().Select(kv => (kv.Key, kv.Value))];

    /// <summary>The metadata both formats carry: strings (safetensors' rule), structured values as JSON.</summary>
    public static Dictionary<string, string> Metadata(CheckpointHeader header, IReadOnlyDictionary<string, string>? origin)
    {
        var m = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "aunce-encoder/1",
            ["label"] = header.Label,
            ["epoch"] = header.Epoch.ToString(CultureInfo.InvariantCulture),
            ["seed"] = header.Seed.ToString(CultureInfo.InvariantCulture),
            ["encoder"] = header.Model.Encoder,
            ["model"] = JsonSerializer.Serialize(header.Model, Json),
            ["au_names"] = JsonSerializer.Serialize(header.AuNames),
            ["hyperparameters"] = JsonSerializer.Serialize(new SortedDictionary<string, string>(header.Hyperparameters.ToDictionary(), StringComparer.Ordinal)),
            ["output"] = "(batch, AUs, feature_dim) unit vectors, one per AU in au_names order",
        };
        if (header.MeanF1 is { } f1)
        {
            m["mean_f1"] = f1.ToString("R", CultureInfo.InvariantCulture);
        }

        if (header.MeanAccuracy is { } acc)
        {
            m["mean_accuracy"] = acc.ToString("R", CultureInfo.InvariantCulture);
        }

        foreach (var (k, v) in origin ?? new Dictionary<string, string>())
        {
            m[k] = v;
        }

        return m;
    }
}
