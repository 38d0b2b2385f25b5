using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;

namespace AunceSearch.Api;

/// <summary>Where Kestrel listens for the API: <see cref="AunceApiOptions.Urls"/>, with the configured certificate for <c>https://</c> ones.</summary>
public static class ApiEndpoints
{
    public static IWebHostBuilder UseAunceApiUrls(this IWebHostBuilder web, AunceApiOptions options)
    {
        web.UseUrls(options.Urls);
        if (!options.UsesHttps)
        {
            return web;
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(options.CertificatePath!, options.KeyPath!);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InvalidOperationException($"{AunceApiOptions.SectionName}:CertificatePath/KeyPath: {options.CertificatePath} with {options.KeyPath}: " +
                                                $"not a readable PEM certificate with its unencrypted private key ({e.Message})");
        }

        web.UseKestrelHttpsConfiguration();   // the slim builders leave HTTPS out until asked
        web.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = certificate));
        return web;
    }
}
