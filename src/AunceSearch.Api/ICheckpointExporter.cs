namespace AunceSearch.Api;

/// <summary>
/// Exports a stored checkpoint for download. The host supplies it (a silo's, over the trainer's export code), so the HTTP
/// layer holds no training code and no libtorch.
/// </summary>
public interface ICheckpointExporter
{
    /// <summary>The formats by name (<c>pt</c>, <c>safetensors</c>, <c>native</c>) with each file's extension; the first is the default.</summary>
    IReadOnlyList<(string Name, string Extension)> Formats { get; }

    /// <summary>
    /// Writes <paramref name="checkpoint"/> as <paramref name="format"/> to <paramref name="path"/> and returns the file's
    /// SHA-256 (lower-case hex). A damaged checkpoint is an <see cref="InvalidDataException"/> naming <paramref name="source"/>.
    /// </summary>
    string Export(byte[] checkpoint, string source, string format, string path, IReadOnlyDictionary<string, string> origin);
}
