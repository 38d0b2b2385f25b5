using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AunceSearch.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AunceSearch.Api.Tests;

/// <summary>
/// Tries to get in over HTTP, as <c>aunce silo</c> with the API serves it (the same composition: silo, API, Orleans'
/// dashboard): every surface without, with a wrong and with the right token when bound beyond loopback; on loopback
/// without a token, a foreign Host (DNS rebinding), a simple-request cancel and a cross-site one; HTTPS from
/// configuration.
/// </summary>
public sealed class ApiAccessTests
{
    private const string Token = "access-test-token-0123456789abcdef0123";

    /// <summary>A silo with the API and Orleans' dashboard, configured as <c>aunce silo</c> with <c>Aunce__Api__*</c> would be.</summary>
    private static async Task<WebApplication> ServeAsync(IDictionary<string, string?> api)
    {
        var builder = WebApplication.CreateSlimBuilder();
        var settings = new Dictionary<string, string?>
        {
            ["Aunce:Silo:GrainStorage"] = "memory",
            ["Aunce:Silo:SiloPort"] = ApiFixture.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Aunce:Silo:GatewayPort"] = ApiFixture.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Aunce:Checkpoints:Path"] = Path.Combine(Path.GetTempPath(), "aunce-api-tests", Guid.NewGuid().ToString("N")),
            ["Aunce:Api:Enabled"] = "true",
        };
        foreach (var (key, value) in api)
        {
            settings[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.AddAunceSilo();
        var options = AunceConfiguration.Read(builder.Configuration).Api;
        builder.Services.AddAunceApi(options);
        builder.WebHost.UseAunceApiUrls(options);
        var app = builder.Build();
        app.MapAunceWeb();
        await app.StartAsync();
        return app;
    }

    /// <summary>Every surface that shows or changes something: the API's reads, live events, a download, a mutation, OpenAPI and Orleans' dashboard.</summary>
    private static readonly (HttpMethod Method, string Path)[] Surfaces =
    [
        (HttpMethod.Get, "/api/sweeps"),
        (HttpMethod.Get, "/api/sweeps/some-sweep"),
        (HttpMethod.Get, "/api/sweeps/some-sweep/trials"),
        (HttpMethod.Get, "/api/sweeps/some-sweep/events"),
        (HttpMethod.Get, "/api/sweeps/some-sweep/checkpoint"),
        (HttpMethod.Post, "/api/sweeps/some-sweep/cancel"),
        (HttpMethod.Get, "/openapi/v1.json"),
        (HttpMethod.Get, "/orleans/version"),
        (HttpMethod.Get, "/orleans/"),
    ];

    [Fact]
    public async Task Beyond_loopback_every_surface_answers_401_without_the_token_or_with_a_wrong_one_and_serves_the_right_one()
    {
        var port = ApiFixture.FreePort();
        await using var app = await ServeAsync(new Dictionary<string, string?>
        {
            ["Aunce:Api:Urls"] = $"http://0.0.0.0:{port}",
            ["Aunce:Api:Token"] = Token,
            ["Aunce:Api:BehindTlsProxy"] = "true",
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        foreach (var (method, path) in Surfaces)
        {
            foreach (var given in new[] { null, "wrong", Token[..^1], Token + "x", "" })
            {
                using var request = new HttpRequestMessage(method, path);
                if (given is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", given);
                }

                var response = await http.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with token '{given}': {response.StatusCode}");
                Assert.Equal("Bearer realm=\"aunce\"", response.Headers.WwwAuthenticate.ToString());
            }

            using var authorized = new HttpRequestMessage(method, path);
            authorized.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            var ok = await http.SendAsync(authorized);
            Assert.True(ok.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{method} {path} with the token: {ok.StatusCode}");
        }

        // The dashboard's page itself holds no data: it loads, and asks for the token.
        Assert.Contains("<title>AunceSearch</title>", await http.GetStringAsync("/"));

        // The OpenAPI document says how to authenticate.
        using var openApi = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
        openApi.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var document = await (await http.SendAsync(openApi)).Content.ReadAsStringAsync();
        Assert.Contains("\"securitySchemes\"", document);
        Assert.Contains("\"scheme\": \"bearer\"", document);
    }

    [Fact]
    public async Task On_loopback_without_a_token_a_foreign_host_and_a_simple_or_cross_site_mutation_are_refused()
    {
        var port = ApiFixture.FreePort();
        await using var app = await ServeAsync(new Dictionary<string, string?> { ["Aunce:Api:Urls"] = $"http://127.0.0.1:{port}" });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        // Reads are this machine's, by a loopback name only: a page on evil.example rebound to 127.0.0.1 gets nothing.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/sweeps")).StatusCode);
        foreach (var host in new[] { "evil.example", $"evil.example:{port}", "127.0.0.1.nip.io", "10.0.0.1" })
        {
            using var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/sweeps");
            rebound.Headers.Host = host;
            var response = await http.SendAsync(rebound);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"Host {host}: {response.StatusCode}");
            Assert.Contains("is not this loopback server's", await response.Content.ReadAsStringAsync());
        }

        using var local = new HttpRequestMessage(HttpMethod.Get, "/api/sweeps");
        local.Headers.Host = $"localhost:{port}";
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(local)).StatusCode);

        // curl -X POST …/cancel with no token and no custom header: what a form on any web page can send. Refused.
        var simple = await http.PostAsync("/api/sweeps/some-sweep/cancel", null);
        Assert.Equal(HttpStatusCode.Forbidden, simple.StatusCode);
        Assert.Contains(ApiAccess.RequestHeader, await simple.Content.ReadAsStringAsync());
        var form = await http.PostAsync("/api/sweeps/some-sweep/cancel", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.Forbidden, form.StatusCode);

        // With the header from another origin (a preflight this server never grants would stop a browser; curl is refused too).
        using var crossSite = new HttpRequestMessage(HttpMethod.Post, "/api/sweeps/some-sweep/cancel");
        crossSite.Headers.Add(ApiAccess.RequestHeader, "1");
        crossSite.Headers.Add("Origin", "https://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(crossSite)).StatusCode);

        // With the header, from this origin: it reaches the endpoint (no such sweep here).
        using var allowed = new HttpRequestMessage(HttpMethod.Post, "/api/sweeps/some-sweep/cancel");
        allowed.Headers.Add(ApiAccess.RequestHeader, "1");
        allowed.Headers.Add("Origin", $"http://127.0.0.1:{port}");
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(allowed)).StatusCode);
    }

    [Fact]
    public async Task Https_uses_the_configured_certificate()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aunce-api-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(Path.Combine(dir, "api.pem"), certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(dir, "api.key"), key.ExportPkcs8PrivateKeyPem());

        var port = ApiFixture.FreePort();
        await using var app = await ServeAsync(new Dictionary<string, string?>
        {
            ["Aunce:Api:Urls"] = $"https://0.0.0.0:{port}",
            ["Aunce:Api:Token"] = Token,
            ["Aunce:Api:CertificatePath"] = Path.Combine(dir, "api.pem"),
            ["Aunce:Api:KeyPath"] = Path.Combine(dir, "api.key"),
        });
        string? seen = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, presented, _, _) =>
            {
                seen = presented?.Thumbprint;
                return presented?.Thumbprint == certificate.Thumbprint;
            },
        };
        using var https = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}") };
        https.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Assert.Equal(HttpStatusCode.OK, (await https.GetAsync("/api/sweeps")).StatusCode);
        Assert.Equal(certificate.Thumbprint, seen);

        // Plain HTTP on that port is not served.
        using var plain = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        try
        {
            var response = await plain.GetAsync("/api/sweeps");
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        }
        catch (HttpRequestException)
        {
            // Kestrel closes a plain-text connection on its TLS port.
        }
    }
}
