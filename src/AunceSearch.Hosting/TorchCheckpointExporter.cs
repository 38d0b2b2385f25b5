using AunceSearch.Api;
using AunceSearch.Training.Export;

namespace AunceSearch.Hosting;

/// <summary>The API's checkpoint export over the trainer's (<see cref="CheckpointExport"/>).</summary>
public sealed class TorchCheckpointExporter : ICheckpointExporter
{
    public IReadOnlyList<(string Name, string Extension)> Formats { get; } = [("pt", "pt"), ("safetensors", "safetensors"), ("native", "ckpt")];

    public string Export(byte[] checkpoint, string source, string format, string path, IReadOnlyDictionary<string, string> origin)
    {
        var kind = format switch
        {
            "pt" => ExportFormat.Pt,
            "safetensors" => ExportFormat.Safetensors,
            "native" => ExportFormat.Native,
            _ => throw new ArgumentException($"format: '{format}' is not one of {string.Join(", ", Formats.Select(f => f.Name))}", nameof(format)),
        };
        return CheckpointExport.Export(checkpoint, source, kind, path, origin).Sha256;
    }
}
