using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AunceSearch.Hosting;

/// <summary>
/// A development PKI for one cluster (<c>aunce cluster certs DIR</c>): a CA, a silo certificate (server and client use,
/// shared by the cluster's silos) and a client certificate (for the CLI and <c>aunce serve</c>), as PEM files. Keys are
/// ECDSA P-256 and written readable by their owner only. For production, issue the same two kinds of certificate from
/// your own PKI (SECURITY.md).
/// </summary>
public static class ClusterCertificates
{
    public const string CaCertificate = "ca.pem";
    public const string CaKey = "ca.key";
    public const string SiloCertificate = "silo.pem";
    public const string SiloKey = "silo.key";
    public const string ClientCertificate = "client.pem";
    public const string ClientKey = "client.key";

    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>Every file this writes, in order.</summary>
    public static readonly IReadOnlyList<string> Files = [CaCertificate, CaKey, SiloCertificate, SiloKey, ClientCertificate, ClientKey];

    /// <summary>
    /// Writes the set into <paramref name="directory"/> (created if missing). Refuses, before writing anything, when any of
    /// its files exists: a second run must not replace a CA that certificates in use were issued by.
    /// </summary>
    /// <param name="names">Extra DNS names or IP addresses for the silo certificate (informational: peers are checked against the CA, not by name).</param>
    public static void Write(string directory, string clusterName, int days, IReadOnlyList<string> names)
    {
        if (days is < 1 or > 3650)
        {
            throw new ArgumentOutOfRangeException(nameof(days), days, "--days must be between 1 and 3650");
        }

        if (File.Exists(directory))
        {
            throw new IOException($"{directory}: is a file, not a directory");
        }

        var existing = Files.Where(f => File.Exists(Path.Combine(directory, f))).ToList();
        if (existing.Count > 0)
        {
            throw new IOException($"{directory}: already holds {string.Join(", ", existing)}; remove them or choose another directory (a new CA would not trust certificates in use)");
        }

        var now = DateTimeOffset.UtcNow;
        var notBefore = now.AddMinutes(-5);
        var notAfter = now.AddDays(days);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN={clusterName} cluster CA, O=AunceSearch", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(notBefore, notAfter.AddDays(1));

        Directory.CreateDirectory(directory);
        WritePem(Path.Combine(directory, CaCertificate), ca.ExportCertificatePem(), secret: false);
        WritePem(Path.Combine(directory, CaKey), caKey.ExportPkcs8PrivateKeyPem(), secret: true);
        Issue(directory, SiloCertificate, SiloKey, $"CN={clusterName} silo, O=AunceSearch", ca, notBefore, notAfter, [ServerAuth, ClientAuth],
            ["localhost", "127.0.0.1", "::1", .. names]);
        Issue(directory, ClientCertificate, ClientKey, $"CN={clusterName} client, O=AunceSearch", ca, notBefore, notAfter, [ClientAuth], []);
    }

    private static void Issue(string directory, string certificateFile, string keyFile, string subject, X509Certificate2 ca, DateTimeOffset notBefore,
        DateTimeOffset notAfter, Oid[] uses, IEnumerable<string> names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        var usages = new OidCollection();
        foreach (var use in uses)
        {
            usages.Add(use);
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        var san = new SubjectAlternativeNameBuilder();
        var any = false;
        foreach (var name in names.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            any = true;
            if (IPAddress.TryParse(name, out var ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        if (any)
        {
            request.CertificateExtensions.Add(san.Build());
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;   // a positive serial number
        using var certificate = request.Create(ca, notBefore, notAfter, serial);
        WritePem(Path.Combine(directory, certificateFile), certificate.ExportCertificatePem(), secret: false);
        WritePem(Path.Combine(directory, keyFile), key.ExportPkcs8PrivateKeyPem(), secret: true);
    }

    /// <summary>Writes a PEM file; a key is created readable and writable by its owner only, never widened afterwards.</summary>
    private static void WritePem(string path, string pem, bool secret)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(pem);
        writer.Write('\n');
        writer.Flush();
        stream.Flush(flushToDisk: true);
    }
}
