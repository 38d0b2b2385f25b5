using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace AunceSearch.Hosting;

/// <summary>
/// The certificates of one cluster member, loaded from <see cref="AunceTlsOptions"/>, and the rule every connection
/// follows: TLS 1.2 or 1.3, a certificate required from both ends, and a peer accepted only when its certificate chains
/// to the configured CA (a private trust root: the machine's public roots are not consulted), is within its validity
/// period and is meant for its use. Host names are not checked: silos find each other by address in the membership
/// table, and the CA is the cluster's own.
/// </summary>
public sealed class ClusterTls
{
    private ClusterTls(X509Certificate2 identity, X509Certificate2Collection authorities)
    {
        Identity = identity;
        Authorities = authorities;
    }

    /// <summary>This member's certificate with its private key.</summary>
    public X509Certificate2 Identity { get; }

    /// <summary>The trusted roots.</summary>
    public X509Certificate2Collection Authorities { get; }

    /// <summary>Loads the configured files; a missing, unreadable or mismatched file is an error naming the setting and the file.</summary>
    public static ClusterTls Load(AunceTlsOptions options)
    {
        options.Validate();
        var section = AunceTlsOptions.SectionName;
        foreach (var (name, path) in new[] { ("CertificatePath", options.CertificatePath!), ("KeyPath", options.KeyPath!), ("CaPath", options.CaPath!) })
        {
            if (!File.Exists(path))
            {
                throw new AunceConfigurationException($"{section}:{name}: {path}: {(Directory.Exists(path) ? "is a directory, not a PEM file" : "file not found")}");
            }
        }

        X509Certificate2 identity;
        try
        {
            identity = X509Certificate2.CreateFromPemFile(options.CertificatePath!, options.KeyPath!);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new AunceConfigurationException(
                $"{section}:CertificatePath/KeyPath: {options.CertificatePath} with {options.KeyPath}: not a PEM certificate with its unencrypted private key ({e.Message})");
        }

        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(options.CaPath!);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new AunceConfigurationException($"{section}:CaPath: {options.CaPath}: not a PEM certificate file ({e.Message})");
        }

        if (authorities.Count == 0)
        {
            throw new AunceConfigurationException($"{section}:CaPath: {options.CaPath}: holds no certificate");
        }

        var tls = new ClusterTls(identity, authorities);
        if (!tls.Trusts(identity, out var why))
        {
            throw new AunceConfigurationException($"{section}:CertificatePath: {options.CertificatePath} is not accepted by the CA in {options.CaPath}: {why}");
        }

        return tls;
    }

    /// <summary>Whether <paramref name="certificate"/> chains to the configured CA and is valid now; <paramref name="why"/> says why not.</summary>
    public bool Trusts(X509Certificate2 certificate, out string why)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;   // a private CA publishes no CRL; rotate the CA to revoke (SECURITY.md)
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        if (chain.Build(certificate))
        {
            why = "";
            return true;
        }

        why = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        if (why.Length == 0)
        {
            why = "its chain does not end at the configured CA";
        }

        return false;
    }

    /// <summary>Orleans' TLS settings for this member: mutual authentication against the cluster's CA.</summary>
    public void Configure(TlsOptions options)
    {
        options.LocalCertificate = Identity;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        options.CheckCertificateRevocation = false;
        options.RemoteCertificateValidation = (certificate, _, _) => Trusts(certificate, out _);
    }
}
