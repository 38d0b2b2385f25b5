using AunceSearch.Grains;
using AunceSearch.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AunceSearch.Cli;

/// <summary>A command as an Orleans client of a cluster: connecting (mutual TLS, Redis membership, a bounded wait) and saying why it could not.</summary>
public static class ClusterConnection
{
    /// <summary>
    /// The one-line error for a cluster this client could not reach: what failed, and, when its gateways were found but
    /// refused the connection, what the TLS set-up must be.
    /// </summary>
    public static PreflightException Unreachable(AunceSettings settings, Exception e)
    {
        var cluster = settings.Cluster;
        var reason = e.Message.Split('\n')[0];
        var hint = "";
        if (e is Orleans.Runtime.SiloUnavailableException || reason.Contains("available gateways", StringComparison.Ordinal))
        {
            hint = settings.Tls.IsSet
                ? $" (the gateways accept only a certificate issued by the cluster's CA, and this client only theirs from {AunceTlsOptions.SectionName}:CaPath)"
                : $" (a cluster requires mutual TLS unless its silos set {AunceTlsOptions.SectionName}:AllowInsecureCluster: set {AunceTlsOptions.SectionName}:CertificatePath, KeyPath and CaPath)";
        }
        else if (RedisConnection.RefusedPassword(e) is not null)
        {
            hint = " (Redis refused the password: Aunce:Cluster:RedisPassword)";
        }

        return new PreflightException($"cluster '{cluster.ClusterId}' (membership in Redis {cluster.Redis}) not reachable within {cluster.ConnectTimeoutSeconds} s: {reason}{hint}");
    }

    /// <summary>
    /// Makes the host an Orleans client of the cluster whose membership lives in <c>Aunce:Cluster:Redis</c>. It gives up
    /// after ConnectTimeoutSeconds without a gateway (an error naming the address), never hangs.
    /// </summary>
    public static void UseCluster(HostApplicationBuilder builder, AunceClusterOptions cluster, AunceTlsOptions tls)
    {
        var clusterTls = tls.IsSet ? ClusterTls.Load(tls) : null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(cluster.ConnectTimeoutSeconds);
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(o => o.ConfigurationOptions = RedisConnection.Options(cluster.Redis!, cluster.RedisPassword));
            if (clusterTls is not null)
            {
                client.UseTls(clusterTls.Identity, clusterTls.Configure);   // the gateways accept only certificates of the cluster's CA
            }

            client.Services.Configure<Orleans.Serialization.Configuration.TypeManifestOptions>(o => o.AddAllowedType(typeof(SiloDrain)));   // aunce silo drain's control call
            client.Configure<Orleans.Configuration.ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            client.UseConnectionRetryFilter(async (_, ct) =>
            {
                if (DateTime.UtcNow > deadline)
                {
                    return false;
                }

                await Task.Delay(500, ct);
                return true;
            });
        });
    }
}
