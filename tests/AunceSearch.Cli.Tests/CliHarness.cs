namespace AunceSearch.Cli.Tests;

/// <summary>Runs the CLI in-process.</summary>
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
}
