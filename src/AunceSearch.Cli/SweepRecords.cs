using AunceSearch.Contracts;
using AunceSearch.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AunceSearch.Cli;

/// <summary>
/// Where every view of a journaled sweep (<c>aunce sweep status</c>, <c>list</c>, <c>explain</c>, <c>checkpoint download</c>)
/// gets its facts: the sweep's one record, its grain's journal — never a copy the CLI keeps, which would drift from it
/// whenever someone else drives the sweep (the API's resume, another folder's client). The record is asked of whoever
/// holds it, as the sweep's saved settings say: the cluster (<c>Aunce:Cluster:Redis</c>) or this folder's <c>aunce serve</c>
/// through an Orleans client, else the embedded silo's grain-state files, read directly (<see cref="SweepRecord"/>). A sweep
/// kept in memory has no record once its process ended. One connection per cluster for any number of sweeps.
/// </summary>
public sealed class SweepRecords(string journalRoot, IReadOnlyList<KeyValuePair<string, string?>> overrides, TextWriter stderr) : IAsyncDisposable
{
    private readonly Dictionary<string, IHost> _clients = new(StringComparer.Ordinal);
    private readonly ClusterCalls _calls = new(stderr);

    /// <summary>The sweep's status from its record; a <see cref="UsageException"/> saying why when there is none to read.</summary>
    public async Task<SweepStatus> ReadAsync(string sweepId, CancellationToken cancellationToken)
    {
        var (_, _, saved, _) = SweepJournal.Open(journalRoot, sweepId);
        var (status, why) = await TryReadAsync(sweepId, saved, cancellationToken);
        return status ?? throw new UsageException($"sweep '{sweepId}': {why}");
    }

    /// <summary>The sweep's status from its record, or null and why not.</summary>
    public async Task<(SweepStatus? Status, string Why)> TryReadAsync(string sweepId, IReadOnlyDictionary<string, string?> saved, CancellationToken cancellationToken)
    {
        var config = new Dictionary<string, string?>(saved, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in overrides)
        {
            config[key] = value;
        }

        var settings = AunceConfiguration.Read(new ConfigurationBuilder().AddEnvironmentVariables().AddInMemoryCollection(config).Build());
        var server = settings.Cluster.IsSet ? null : LocalServer.Find(Directory.GetCurrentDirectory());
        if (settings.Cluster.IsSet || server is not null)
        {
            var key = server is null ? $"cluster|{settings.Cluster.Redis}|{settings.Cluster.ClusterId}" : $"serve|{server.Pid}";
            if (!_clients.TryGetValue(key, out var host))
            {
                host = await ConnectAsync(settings, server, cancellationToken);
                _clients[key] = host;
            }

            try
            {
                var sweep = host.Services.GetRequiredService<IGrainFactory>().GetGrain<ISweepGrain>(sweepId);
                return (await _calls.RunAsync(() => sweep.GetStatusAsync(cancellationToken)), "");
            }
            catch (KeyNotFoundException)
            {
                return (null, server is null ? $"cluster '{settings.Cluster.ClusterId}' has no record of it" : $"this folder's aunce serve (pid {server.Pid}) has no record of it");
            }
        }

        if (settings.Silo.GrainStorage == "file")
        {
            var status = await SweepRecord.ReadStatusAsync(settings.Silo.StatePath, sweepId, cancellationToken);
            return (status, status is null ? $"no record in {Path.GetFullPath(settings.Silo.StatePath)} (it never started, or its state folder was removed)" : "");
        }

        return (null, $"its state was kept in memory (Aunce:Silo:GrainStorage={settings.Silo.GrainStorage}) and ended with its process");
    }

    private static async Task<IHost> ConnectAsync(AunceSettings settings, LocalServer? server, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "aunce" });
        builder.Logging.ClearProviders();
        if (server is null)
        {
            ClusterConnection.UseCluster(builder, settings.Cluster, settings.Tls);
        }
        else
        {
            server.UseAsClient(builder);
        }

        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
            return host;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            throw server is null
                ? ClusterConnection.Unreachable(settings, e)
                : server.Unreachable(e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _clients.Values)
        {
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
        }

        _clients.Clear();
    }
}
