namespace AunceSearch.Training.Tests;

internal static class TestPaths
{
    public static string TempDirectory()
    {
        var d = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }
}
