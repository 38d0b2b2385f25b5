namespace AunceSearch.Tests;

/// <summary>
/// Files the tests read, all inside this repository under <c>tests/fixtures/</c> (tests/fixtures/README.md names where
/// each came from). Nothing outside the repository is read: a fresh clone runs every test.
/// </summary>
internal static class TestFixtures
{
    /// <summary>The repository root: the nearest folder above the test binaries that holds AunceSearch.sln.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "AunceSearch.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new DirectoryNotFoundException($"AunceSearch.sln not found above {AppContext.BaseDirectory}: run the tests from a checkout of the repository");
        }
    }

    /// <summary>A file or folder under tests/fixtures (e.g. "aunce/pruner-traces"); a clear error naming it if missing.</summary>
    public static string Path(string relative)
    {
        var p = System.IO.Path.Combine(RepositoryRoot, "tests", "fixtures", relative);
        return File.Exists(p) || Directory.Exists(p)
            ? p
            : throw new FileNotFoundException($"test fixture tests/fixtures/{relative} is missing from the checkout", p);
    }
}
