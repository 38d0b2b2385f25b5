using System.Globalization;
using System.Text.Json;
using AunceSearch.Api;
using AunceSearch.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AunceSearch.Cli;

/// <summary>Where a running <c>aunce serve</c> can be reached: written to <c>.aunce/server.json</c> while it runs.</summary>
public sealed record LocalServer(int Pid, string Url, int GatewayPort, string ClusterId, string ServiceId)
{
    public static string FileIn(string directory) => Path.Combine(directory, ".aunce", "server.json");

    /// <summary>Makes the host an Orleans client of this server (its gateway on loopback).</summary>
    public void UseAsClient(HostApplicationBuilder builder) =>
        builder.UseOrleansClient(client => client.UseLocalhostClustering(GatewayPort, ServiceId, ClusterId));

    /// <summary>The one-line error for a client that could not reach this server.</summary>
    public PreflightException Unreachable(Exception e) =>
        new($"this folder's aunce serve (pid {Pid}, gateway 127.0.0.1:{GatewayPort}) not reachable: {e.Message.Split('\n')[0]}");

    /// <summary>The server recorded under <paramref name="directory"/> if its process still runs, else null.</summary>
    public static LocalServer? Find(string directory)
    {
        var file = FileIn(directory);
        if (!File.Exists(file))
        {
            return null;
        }

        try
        {
            var server = JsonSerializer.Deserialize<LocalServer>(File.ReadAllText(file));
            if (server is null)
            {
                return null;
            }

            using var process = System.Diagnostics.Process.GetProcessById(server.Pid);
            return process.HasExited ? null : server;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or IOException)
        {
            return null;   // a stale or damaged record: no server
        }
    }
}

/// <summary>
/// <c>aunce serve [--port P]</c>: an embedded silo on this folder's state (<c>.aunce/</c>) that serves the HTTP API on
/// loopback. While it runs, <c>aunce sweep run/resume/cancel</c> in this folder submit to it as Orleans clients instead of
/// hosting their own silo, so the API sees their sweeps live. Ctrl-C stops it.
/// </summary>
public static class ServeCommand
{
    public static async Task<int> RunAsync(int port, IReadOnlyDictionary<string, string?> overrides, bool verbose, TextWriter stdout, CancellationToken cancellationToken)
    {
        var cwd = Directory.GetCurrentDirectory();
        if (LocalServer.Find(cwd) is { } running)
        {
            throw new UsageException($"a server already runs for {cwd} (pid {running.Pid}, {running.Url})");
        }

        // A busy port is found before anything starts: one clear line, no silo brought up only to be torn down.
        try
        {
            using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            probe.Start();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new PreflightException($"--port {port}: cannot listen on http://127.0.0.1:{port} ({e.Message})");
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "aunce", Args = HostArguments.WithoutConfigReload([]) });
        var gateway = SweepRunner.FreePort();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Aunce:Checkpoints:Path"] = Path.Combine(cwd, ".aunce", "checkpoints"),
            ["Aunce:Silo:GrainStorage"] = "file",
            ["Aunce:Silo:StatePath"] = Path.Combine(cwd, ".aunce", "state"),
            ["Aunce:Silo:SiloPort"] = SweepRunner.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Aunce:Silo:GatewayPort"] = gateway.ToString(CultureInfo.InvariantCulture),
            ["Aunce:Api:Urls"] = $"http://127.0.0.1:{port}",
            ["Aunce:Api:Enabled"] = "true",
            ["Aunce:Silo:RestartRunningSweeps"] = "false",   // what a killed `sweep run` left is shown, not continued unasked
        });
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection(overrides);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning);
        if (!verbose)
        {
            builder.Logging.AddFilter((category, level) => level >= LogLevel.Warning && category?.StartsWith("AunceSearch", StringComparison.Ordinal) == true);
        }

        builder.AddAunceSilo();
        var settings = AunceConfiguration.Read(builder.Configuration);
        if (settings.Silo.Clustering != "localhost")
        {
            throw new UsageException("aunce serve hosts an embedded silo (Aunce:Silo:Clustering=localhost); on a cluster, enable the API on a silo with Aunce__Api__Enabled=true");
        }

        builder.Services.AddAunceApi(settings.Api);
        builder.WebHost.UseAunceApiUrls(settings.Api);
        await using var app = builder.Build();
        app.MapAunceWeb();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            throw new PreflightException($"--port {port}: cannot listen on {settings.Api.Urls} ({e.Message.Split('\n')[0]})");
        }

        var record = LocalServer.FileIn(cwd);
        Directory.CreateDirectory(Path.GetDirectoryName(record)!);
        File.WriteAllText(record, JsonSerializer.Serialize(new LocalServer(Environment.ProcessId, settings.Api.Urls, gateway, settings.Silo.ClusterId, settings.Silo.ServiceId)));
        try
        {
            await stdout.WriteLineAsync($"serving {settings.Api.Urls}: the dashboard at /, the API at /api/sweeps (/openapi/v1.json), Orleans' dashboard at /orleans/; " +
                                        $"aunce sweep run in {cwd} now submits to this server (Ctrl-C stops it)");
            await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, CancellationToken.None);
        }
        finally
        {
            File.Delete(record);
            await app.StopAsync(CancellationToken.None);
        }

        return ExitCodes.Ok;
    }
}
