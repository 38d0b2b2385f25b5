namespace AunceSearch.Cli.Tests;

/// <summary>Runs the CLI in-process and finds the shared/ folder beside the repository.</summary>
internal static class CliHarness
{
    public static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A new, empty directory under the system temp folder.</summary>
    public static string TempDirectory()
    {
        var d = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>A path under shared/ (e.g. "aunce/pruner-traces").</summary>
    public static string Shared(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, "..", "shared", relative);
            if (File.Exists(p) || Directory.Exists(p))
            {
                return Path.GetFullPath(p);
            }
        }

        throw new FileNotFoundException($"shared/{relative} not found beside the repository");
    }
}
