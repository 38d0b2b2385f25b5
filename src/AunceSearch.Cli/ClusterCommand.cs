using AunceSearch.Hosting;

namespace AunceSearch.Cli;

/// <summary><c>aunce cluster certs DIR</c>: a development CA and the certificates a cluster's members need for mutual TLS.</summary>
public static class ClusterCommand
{
    public static int Certs(string directory, string name, int days, IReadOnlyList<string> names, TextWriter stdout)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Any(c => char.IsControl(c) || c is ',' or '=' or '+' or '"' or '\\' or '<' or '>' or ';'))
        {
            throw new UsageException($"--name '{name}': a cluster name needs letters, digits, spaces, '-' or '.' only");
        }

        foreach (var n in names)
        {
            if (System.Net.IPAddress.TryParse(n, out _) == false && Uri.CheckHostName(n) != UriHostNameType.Dns)
            {
                throw new UsageException($"--san '{n}': not a DNS name or an IP address");
            }
        }

        try
        {
            ClusterCertificates.Write(directory, name, days, names);
        }
        catch (IOException e)
        {
            throw new PreflightException(e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new PreflightException($"{directory}: {e.Message}");
        }

        var full = Path.GetFullPath(directory);
        stdout.WriteLine($"wrote a CA and mutual-TLS certificates for cluster '{name}' to {full} (valid {days} days):");
        stdout.WriteLine($"  silos:   Aunce__Tls__CertificatePath={Path.Combine(full, ClusterCertificates.SiloCertificate)} Aunce__Tls__KeyPath={Path.Combine(full, ClusterCertificates.SiloKey)}");
        stdout.WriteLine($"  clients: Aunce__Tls__CertificatePath={Path.Combine(full, ClusterCertificates.ClientCertificate)} Aunce__Tls__KeyPath={Path.Combine(full, ClusterCertificates.ClientKey)}");
        stdout.WriteLine($"  both:    Aunce__Tls__CaPath={Path.Combine(full, ClusterCertificates.CaCertificate)}");
        stdout.WriteLine($"keep {ClusterCertificates.CaKey} offline: whoever holds it can mint certificates the cluster trusts");
        return ExitCodes.Ok;
    }
}
