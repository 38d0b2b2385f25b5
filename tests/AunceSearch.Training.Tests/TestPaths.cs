namespace AunceSearch.Training.Tests;

internal static class TestPaths
{
    /// <summary>The shared folder beside the repository (reference vectors, traces).</summary>
    public static string Shared
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "aunce");
                if (Directory.Exists(candidate))
                {
                    return Path.Combine(dir.FullName, "shared");
                }

                if (File.Exists(Path.Combine(dir.FullName, "AunceSearch.sln")))
                {
                    var beside = Path.Combine(dir.Parent!.FullName, "shared");
                    if (Directory.Exists(beside))
                    {
                        return beside;
                    }
                }

                dir = dir.Parent;
            }

            throw new DirectoryNotFoundException("shared/ (with aunce/reference-vectors.json) not found beside the repository");
        }
    }

    public static string TempDirectory()
    {
        var d = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }
}
