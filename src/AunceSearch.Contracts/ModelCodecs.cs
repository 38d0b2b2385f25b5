using System.Text.Json;
using System.Text.Json.Serialization;
using AunceSearch.Model;

namespace AunceSearch.Contracts;

/// <summary>
/// How the vocabulary's settings records (<see cref="DatasetOptions"/>, <see cref="ModelOptions"/>,
/// <see cref="AugmentOptions"/>: plain records with no Orleans attributes, shared by the spec loader, the wire and the
/// trainer) travel in grain calls: Orleans' surrogate mechanism for foreign types, the surrogate holding the record's JSON
/// (the same encoding the journal stores). A setting added to one of them travels with no change here, and a silo reading
/// a record from an older client gets the new setting's default. Orleans' code generator finds the converters by their
/// attributes, so every silo, client and test cluster has them with no registration.
/// </summary>
[GenerateSerializer, Immutable, Alias("aunce.settings-json")]
public readonly record struct SettingsJson([property: Id(0)] byte[] Utf8)
{
    /// <summary>The encoding: property names as declared, enums by name, doubles exactly (NaN and infinities by name).</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static SettingsJson Of<T>(T value) => new(JsonSerializer.SerializeToUtf8Bytes(value, Options));

    public T To<T>() => JsonSerializer.Deserialize<T>(Utf8, Options) ?? throw new InvalidDataException($"{typeof(T).Name}: empty settings on the wire");
}

/// <summary>The dataset settings on the wire.</summary>
[RegisterConverter]
public sealed class DatasetOptionsConverter : IConverter<DatasetOptions, SettingsJson>
{
    public DatasetOptions ConvertFromSurrogate(in SettingsJson surrogate) => surrogate.To<DatasetOptions>();

    public SettingsJson ConvertToSurrogate(in DatasetOptions value) => SettingsJson.Of(value);
}

/// <summary>The encoder settings on the wire.</summary>
[RegisterConverter]
public sealed class ModelOptionsConverter : IConverter<ModelOptions, SettingsJson>
{
    public ModelOptions ConvertFromSurrogate(in SettingsJson surrogate) => surrogate.To<ModelOptions>();

    public SettingsJson ConvertToSurrogate(in ModelOptions value) => SettingsJson.Of(value);
}

/// <summary>The augmentation settings on the wire.</summary>
[RegisterConverter]
public sealed class AugmentOptionsConverter : IConverter<AugmentOptions, SettingsJson>
{
    public AugmentOptions ConvertFromSurrogate(in SettingsJson surrogate) => surrogate.To<AugmentOptions>();

    public SettingsJson ConvertToSurrogate(in AugmentOptions value) => SettingsJson.Of(value);
}
