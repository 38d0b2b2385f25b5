using Orleans.Metadata;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace AunceSearch.Grains.Placement;

/// <summary>Silo metadata that marks where folds may train.</summary>
public static class TrainerSilo
{
    /// <summary>Metadata key; a silo with a training device sets it to "true" (GPU silos in a cluster; the embedded silo too).</summary>
    public const string MetadataKey = "aunce-trainer";

    /// <summary>
    /// Metadata key; a silo that may host sweep and trial grains (the coordinators) sets it to "true". Trainer-only silos
    /// of a cluster set it to "false", so losing a GPU machine never takes a sweep's coordinator with it.
    /// </summary>
    public const string CoordinatorKey = "aunce-coordinator";

    /// <summary>Metadata key naming the device ("cuda" or "cpu"), for dashboards.</summary>
    public const string DeviceKey = "aunce-device";
}

/// <summary>
/// Places a grain only on silos whose metadata has <c>key = value</c>. (Orleans' built-in required-match filter
/// compares with the calling silo's metadata, so it cannot say "only on trainer silos" for calls from elsewhere.)
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequireSiloMetadataAttribute(string key, string value, int order = 0)
    : PlacementFilterAttribute(new RequireSiloMetadataFilterStrategy(key, value, order));

/// <summary>The filter's strategy; its key and value travel to every silo as grain properties.</summary>
public sealed class RequireSiloMetadataFilterStrategy : PlacementFilterStrategy
{
    public RequireSiloMetadataFilterStrategy()
        : base(0)
    {
    }

    public RequireSiloMetadataFilterStrategy(string key, string value, int order)
        : base(order)
    {
        Key = key;
        Value = value;
    }

    public string Key { get; private set; } = "";

    public string Value { get; private set; } = "";

    public override void AdditionalInitialize(GrainProperties properties)
    {
        Key = GetPlacementFilterGrainProperty("key", properties) ?? "";
        Value = GetPlacementFilterGrainProperty("value", properties) ?? "";
    }

    protected override IEnumerable<KeyValuePair<string, string>> GetAdditionalGrainProperties(
        IServiceProvider services, Type grainClass, GrainType grainType, IReadOnlyDictionary<string, string> existingProperties)
    {
        yield return new("key", Key);
        yield return new("value", Value);
    }
}

/// <summary>Keeps the candidate silos whose metadata matches.</summary>
public sealed class RequireSiloMetadataFilterDirector(ISiloMetadataCache cache) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var strategy = (RequireSiloMetadataFilterStrategy)filterStrategy;
        return [.. silos.Where(s => Matches(cache.GetSiloMetadata(s).Metadata, strategy.Key, strategy.Value))];
    }

    internal static bool Matches(IReadOnlyDictionary<string, string> metadata, string key, string value) =>
        metadata.TryGetValue(key, out var v) && string.Equals(v, value, StringComparison.Ordinal);
}
