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

    /// <summary>The small synthetic dataset the CLI tests train on (6 subjects x 8 images, 32 px, 2 folds, 3 AUs), in a new directory.</summary>
    public static string SyntheticDataset()
    {
        var root = Path.Combine(TempDirectory(), "data");
        AunceSearch.Training.Data.SyntheticAuFaces.Generate(root, new AunceSearch.Model.SyntheticOptions
        {
            Subjects = 6, ImagesPerSubject = 8, ImageSize = 32, Folds = 2, OccurrenceRates = [0.3, 0.6, 0.4],
        });
        return root;
    }

    /// <summary>Copies every file under <paramref name="source"/> to a new directory named <paramref name="name"/> and returns its path.</summary>
    public static string CopyOf(string source, string name)
    {
        var root = Path.Combine(TempDirectory(), name);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(root, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return root;
    }

    /// <summary>A new, empty directory under the system temp folder.</summary>
    /// <summary>A loopback port free right now.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string TempDirectory()
    {
        var d = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }
}
