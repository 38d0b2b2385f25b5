namespace AunceSearch.Hosting;

/// <summary>How a silo joins its cluster (configuration section <c>Aunce:Silo</c>).</summary>
public sealed class AunceSiloOptions
{
    public const string SectionName = "Aunce:Silo";

    /// <summary>"localhost" (one embedded silo; the default) or "redis" (Orleans Redis clustering).</summary>
    public string Clustering { get; set; } = "localhost";

    /// <summary>Redis connection string for clustering and/or grain storage, e.g. <c>127.0.0.1:6379</c>.</summary>
    public string? Redis { get; set; }

    /// <summary>The Redis password (<c>requirepass</c>), kept out of <see cref="Redis"/> so it can come from a secret: <c>Aunce__Silo__RedisPassword</c>.</summary>
    public string? RedisPassword { get; set; }

    /// <summary>
    /// "memory" (lost with the process), "file" (local files under <see cref="StatePath"/>: an embedded silo's sweeps survive
    /// the process; what <c>aunce sweep run</c> uses) or "redis" (a cluster's sweeps survive silo failures).
    /// </summary>
    public string GrainStorage { get; set; } = "memory";

    /// <summary>Where "file" grain storage keeps grain state.</summary>
    public string StatePath { get; set; } = ".aunce/state";

    public string ClusterId { get; set; } = "aunce";

    public string ServiceId { get; set; } = "aunce";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>The address other silos reach this one at (cluster mode): an IP, "auto" (this host's first IPv4 address, for containers) or empty (loopback).</summary>
    public string? AdvertisedIp { get; set; }

    /// <summary>Whether folds may train on this silo (GPU silos in a cluster; the embedded silo).</summary>
    public bool Trainer { get; set; } = true;

    /// <summary>Whether sweep and trial grains (the coordinators) may live on this silo; false on trainer-only silos of a cluster.</summary>
    public bool Coordinator { get; set; } = true;

    /// <summary>
    /// Running as a Kubernetes pod: Orleans' Kubernetes hosting takes the silo's name, address and cluster identity from the
    /// pod (POD_NAME, POD_NAMESPACE, POD_IP, ORLEANS_CLUSTER_ID, ORLEANS_SERVICE_ID) and removes dead pods from membership
    /// (deploy/k8s). Clustering stays Redis.
    /// </summary>
    public bool Kubernetes { get; set; }

    /// <summary>Fast failure detection (about 1–2 s after a crash instead of ~12 s; see deploy/README.md).</summary>
    public bool FastFailureDetection { get; set; }

    /// <summary>
    /// Whether a running sweep restarts its trials when its grain activates (a coordinator silo came back after a crash):
    /// what a cluster wants. <c>aunce serve</c> turns it off: a sweep a killed <c>aunce sweep run</c> left in its folder is
    /// shown, not continued, until someone runs <c>aunce sweep resume</c>.
    /// </summary>
    public bool RestartRunningSweeps { get; set; } = true;

    public void Validate()
    {
        if (Clustering is not ("localhost" or "redis"))
        {
            throw new InvalidOperationException($"{SectionName}:Clustering '{Clustering}' is not one of: localhost, redis");
        }

        if (GrainStorage is not ("memory" or "file" or "redis"))
        {
            throw new InvalidOperationException($"{SectionName}:GrainStorage '{GrainStorage}' is not one of: memory, file, redis");
        }

        if (GrainStorage == "file" && string.IsNullOrWhiteSpace(StatePath))
        {
            throw new InvalidOperationException($"{SectionName}:StatePath must name a directory for file grain storage");
        }

        if (Kubernetes && Clustering != "redis")
        {
            throw new InvalidOperationException($"{SectionName}:Kubernetes needs {SectionName}:Clustering=redis (pods find each other through Redis membership)");
        }

        if ((Clustering == "redis" || GrainStorage == "redis") && string.IsNullOrWhiteSpace(Redis))
        {
            throw new InvalidOperationException($"{SectionName}:Redis (a Redis connection string) is required for redis clustering or storage");
        }

        if (!string.IsNullOrWhiteSpace(AdvertisedIp) && AdvertisedIp != "auto" && !System.Net.IPAddress.TryParse(AdvertisedIp, out _))
        {
            throw new InvalidOperationException($"{SectionName}:AdvertisedIp '{AdvertisedIp}' is not an IP address or 'auto'");
        }

        if (SiloPort is < 1 or > 65535 || GatewayPort is < 1 or > 65535)
        {
            throw new InvalidOperationException($"{SectionName}:SiloPort and GatewayPort must be TCP ports (1-65535)");
        }
    }

    /// <summary>The IP address to advertise to the cluster.</summary>
    public System.Net.IPAddress ResolveAdvertisedIp()
    {
        if (string.IsNullOrWhiteSpace(AdvertisedIp))
        {
            return System.Net.IPAddress.Loopback;
        }

        if (AdvertisedIp != "auto")
        {
            return System.Net.IPAddress.Parse(AdvertisedIp);
        }

        return System.Net.Dns.GetHostAddresses(System.Net.Dns.GetHostName())
            .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(a))
            ?? throw new InvalidOperationException($"{SectionName}:AdvertisedIp is 'auto' but this host has no non-loopback IPv4 address");
    }
}

/// <summary>
/// The cluster a CLI submits to as an Orleans client (section <c>Aunce:Cluster</c>). Unset: the CLI hosts its own embedded silo.
/// </summary>
public sealed class AunceClusterOptions
{
    public const string SectionName = "Aunce:Cluster";

    /// <summary>Redis connection string of the cluster's membership table (the silos' Aunce:Silo:Redis), e.g. <c>127.0.0.1:6379</c>.</summary>
    public string? Redis { get; set; }

    /// <summary>The cluster's Redis password (<c>Aunce__Cluster__RedisPassword</c>; never written to a sweep's settings).</summary>
    public string? RedisPassword { get; set; }

    public string ClusterId { get; set; } = "aunce";

    public string ServiceId { get; set; } = "aunce";

    /// <summary>How long to try to reach a gateway before giving up with an error.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 15;

    public bool IsSet => !string.IsNullOrWhiteSpace(Redis);

    public void Validate()
    {
        if (ConnectTimeoutSeconds is < 1 or > 600)
        {
            throw new InvalidOperationException($"{SectionName}:ConnectTimeoutSeconds is {ConnectTimeoutSeconds}; it must be between 1 and 600");
        }
    }
}

/// <summary>Where traces and metrics go (section <c>Aunce:Telemetry</c>).</summary>
public sealed class AunceTelemetryOptions
{
    public const string SectionName = "Aunce:Telemetry";

    /// <summary>OTLP endpoint for traces and metrics (also read from OTEL_EXPORTER_OTLP_ENDPOINT).</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>Port of a Prometheus scrape endpoint on 127.0.0.1 (0 = none).</summary>
    public int PrometheusPort { get; set; }

    /// <summary>Interface of the Prometheus endpoint.</summary>
    public string PrometheusHost { get; set; } = "127.0.0.1";

    public void Validate()
    {
        if (PrometheusPort is < 0 or > 65535)
        {
            throw new InvalidOperationException($"{SectionName}:PrometheusPort is {PrometheusPort}; it must be a TCP port (1-65535) or 0 for none");
        }

        if (!string.IsNullOrWhiteSpace(OtlpEndpoint) && !(Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            throw new InvalidOperationException($"{SectionName}:OtlpEndpoint '{OtlpEndpoint}' is not an http(s) URL, e.g. http://127.0.0.1:4317");
        }
    }
}
