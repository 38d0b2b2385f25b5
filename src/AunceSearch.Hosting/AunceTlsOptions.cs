namespace AunceSearch.Hosting;

/// <summary>
/// Mutual TLS between the members of a cluster and its clients (section <c>Aunce:Tls</c>): every silo-to-silo and
/// client-to-gateway connection presents a certificate issued by <see cref="CaPath"/> and accepts only peers whose
/// certificate chains to it. On by default: a silo on Redis clustering, or a CLI that submits to one, refuses to start
/// without it unless <see cref="AllowInsecureCluster"/> says the network is trusted. <c>aunce cluster certs DIR</c> writes
/// a development CA and certificates; see SECURITY.md for your own PKI and rotation.
/// </summary>
public sealed class AunceTlsOptions
{
    public const string SectionName = "Aunce:Tls";

    /// <summary>This member's certificate (PEM): a silo's needs the serverAuth and clientAuth uses, a client's clientAuth.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The certificate's private key (PEM, unencrypted; keep the file readable by its owner only).</summary>
    public string? KeyPath { get; set; }

    /// <summary>The certificate authority (PEM, one or more certificates) a peer's certificate must chain to.</summary>
    public string? CaPath { get; set; }

    /// <summary>
    /// Runs a cluster (or connects to one) with no TLS at all: anyone who reaches a silo or gateway port controls the
    /// cluster. Only for a single trusted host; a silo started so logs a warning.
    /// </summary>
    public bool AllowInsecureCluster { get; set; }

    /// <summary>Whether certificates are configured.</summary>
    public bool IsSet => !string.IsNullOrWhiteSpace(CertificatePath) || !string.IsNullOrWhiteSpace(KeyPath) || !string.IsNullOrWhiteSpace(CaPath);

    public void Validate()
    {
        if (!IsSet)
        {
            return;
        }

        foreach (var (name, value) in new[] { (nameof(CertificatePath), CertificatePath), (nameof(KeyPath), KeyPath), (nameof(CaPath), CaPath) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new InvalidOperationException($"{SectionName}:{name} is not set; mutual TLS needs all three of CertificatePath, KeyPath and CaPath " +
                                                    "(aunce cluster certs DIR writes a set)");
            }
        }

        if (AllowInsecureCluster)
        {
            throw new InvalidOperationException($"{SectionName}:AllowInsecureCluster is true while certificates are set; choose one");
        }
    }

    /// <summary>
    /// Throws unless this host may join or reach a cluster (<paramref name="what"/> names it): certificates are set, or the
    /// insecure opt-out is.
    /// </summary>
    public void RequireForCluster(string what)
    {
        if (!IsSet && !AllowInsecureCluster)
        {
            throw new InvalidOperationException(
                $"{SectionName}: {what} without mutual TLS would let anyone who reaches its ports control the cluster; set {SectionName}:CertificatePath, " +
                $"KeyPath and CaPath (aunce cluster certs DIR writes a development set), or {SectionName}:AllowInsecureCluster=true on a trusted single host");
        }
    }
}
