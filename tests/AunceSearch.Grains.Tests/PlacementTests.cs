using AunceSearch.Grains.Placement;

namespace AunceSearch.Grains.Tests;

public class PlacementTests
{
    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("TRUE", false)]
    [InlineData(null, false)]
    public void Trainer_filter_requires_the_exact_metadata_value(string? value, bool expected)
    {
        var metadata = new Dictionary<string, string>();
        if (value is not null)
        {
            metadata[TrainerSilo.MetadataKey] = value;
        }

        Assert.Equal(expected, RequireSiloMetadataFilterDirector.Matches(metadata, TrainerSilo.MetadataKey, "true"));
    }
}
