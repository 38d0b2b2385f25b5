using Orleans.Storage;

namespace AunceSearch.Grains.Tests;

/// <summary>Grain-storage serialization as JSON, for storage tests that run without a silo.</summary>
internal sealed class JsonStorageSerializer : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) => new(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(input));

    public T Deserialize<T>(BinaryData input) => System.Text.Json.JsonSerializer.Deserialize<T>(input.ToArray())!;
}
