using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AunceSearch.Hosting;

/// <summary>Says, at every start of a silo that joined a cluster with <c>Aunce:Tls:AllowInsecureCluster</c>, what that opens.</summary>
internal sealed partial class InsecureClusterWarning(ILogger<InsecureClusterWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogInsecure(logger);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Aunce:Tls:AllowInsecureCluster is set: this silo's cluster and gateway ports take unauthenticated, " +
                                                       "unencrypted connections; anyone who reaches them can start, cancel or rewrite sweeps")]
    private static partial void LogInsecure(ILogger logger);
}
