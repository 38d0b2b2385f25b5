using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using AunceSearch.Hosting;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// Who may join or reach a cluster, tried from outside against real processes on loopback: a Redis that requires a
/// password (started here) and a silo that requires mutual TLS. Clients without a certificate, with one from another CA,
/// with one the silo does not trust, and with the wrong Redis password are refused with one line and exit 2; a client
/// with the cluster's certificate is served.
/// </summary>
public sealed class ClusterSecurityTests
{
    private const string Password = "test-redis-password-0123456789abcdef";

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Cluster_certs_writes_a_ca_a_silo_and_a_client_certificate_with_private_keys_for_the_owner_only_and_never_replaces_them()
    {
        var dir = Path.Combine(CliHarness.TempDirectory(), "certs");
        var (code, output, err) = await CliHarness.Run("cluster", "certs", dir, "--name", "lab", "--san", "silo-0.aunce", "--san", "10.0.0.7");
        Assert.True(code == 0, err + output);
        Assert.Contains("Aunce__Tls__CaPath=", output, StringComparison.Ordinal);
        foreach (var key in new[] { ClusterCertificates.CaKey, ClusterCertificates.SiloKey, ClusterCertificates.ClientKey })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, key)));
        }

        var tls = ClusterTls.Load(new AunceTlsOptions
        {
            CertificatePath = Path.Combine(dir, ClusterCertificates.SiloCertificate),
            KeyPath = Path.Combine(dir, ClusterCertificates.SiloKey),
            CaPath = Path.Combine(dir, ClusterCertificates.CaCertificate),
        });
        Assert.True(tls.Identity.HasPrivateKey);
        var uses = tls.Identity.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value).ToHashSet();
        Assert.Equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], uses.Order());   // a silo serves and dials
        Assert.Contains("silo-0.aunce", tls.Identity.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        using var client = X509Certificate2.CreateFromPemFile(Path.Combine(dir, ClusterCertificates.ClientCertificate), Path.Combine(dir, ClusterCertificates.ClientKey));
        Assert.True(tls.Trusts(client, out _));
        Assert.Equal(["1.3.6.1.5.5.7.3.2"], client.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value));

        // A second run into the same folder would mint a CA that no certificate in use chains to: refused, nothing changed.
        var before = Directory.GetFiles(dir).ToDictionary(f => f, File.ReadAllBytes);
        (code, output, err) = await CliHarness.Run("cluster", "certs", dir);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", err, StringComparison.Ordinal);
        Assert.Contains("already holds ca.pem", err, StringComparison.Ordinal);
        Assert.All(before, kv => Assert.Equal(kv.Value, File.ReadAllBytes(kv.Key)));

        // Another cluster's CA does not vouch for this cluster's client, and says why.
        var other = Path.Combine(CliHarness.TempDirectory(), "other");
        Assert.Equal(0, (await CliHarness.Run("cluster", "certs", other)).Code);
        var foreign = ClusterTls.Load(new AunceTlsOptions
        {
            CertificatePath = Path.Combine(other, ClusterCertificates.ClientCertificate),
            KeyPath = Path.Combine(other, ClusterCertificates.ClientKey),
            CaPath = Path.Combine(other, ClusterCertificates.CaCertificate),
        });
        Assert.False(foreign.Trusts(client, out var why));
        Assert.NotEmpty(why);

        foreach (var bad in new[] { new[] { "cluster", "certs", dir + "-x", "--days", "0" }, ["cluster", "certs", dir + "-y", "--san", "not a name"], ["cluster", "certs", dir + "-z", "--name", "a,b"] })
        {
            (code, _, err) = await CliHarness.Run(bad);
            Assert.True(code == 2, string.Join(' ', bad) + ": " + err);
            Assert.StartsWith("error: ", err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Tls_files_that_are_missing_mismatched_or_not_issued_by_the_ca_are_named()
    {
        var dir = Path.Combine(CliHarness.TempDirectory(), "certs");
        ClusterCertificates.Write(dir, "aunce", 30, []);
        var other = Path.Combine(CliHarness.TempDirectory(), "other");
        ClusterCertificates.Write(other, "other", 30, []);
        AunceTlsOptions Options(string cert, string key, string ca) => new() { CertificatePath = cert, KeyPath = key, CaPath = ca };
        var cases = new (AunceTlsOptions Options, string Expected)[]
        {
            (Options(Path.Combine(dir, "nope.pem"), Path.Combine(dir, "client.key"), Path.Combine(dir, "ca.pem")), "CertificatePath: " + Path.Combine(dir, "nope.pem") + ": file not found"),
            (Options(Path.Combine(dir, "client.pem"), dir, Path.Combine(dir, "ca.pem")), "is a directory"),
            (Options(Path.Combine(dir, "client.pem"), Path.Combine(dir, "silo.key"), Path.Combine(dir, "ca.pem")), "not a PEM certificate with its unencrypted private key"),
            (Options(Path.Combine(dir, "client.pem"), Path.Combine(dir, "client.key"), Path.Combine(dir, "client.key")), "CaPath"),
            (Options(Path.Combine(other, "client.pem"), Path.Combine(other, "client.key"), Path.Combine(dir, "ca.pem")), "is not accepted by the CA"),
            (new AunceTlsOptions { CertificatePath = Path.Combine(dir, "client.pem") }, "Aunce:Tls:KeyPath is not set"),
        };
        foreach (var (options, expected) in cases)
        {
            var e = Assert.ThrowsAny<Exception>(() => ClusterTls.Load(options));
            Assert.True(e is AunceConfigurationException or InvalidOperationException, e.ToString());
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_silo_on_redis_clustering_refuses_to_start_without_tls_or_the_right_redis_password()
    {
        using var redis = await PasswordRedis.StartAsync();
        var work = CliHarness.TempDirectory();
        var certs = Path.Combine(work, "certs");
        ClusterCertificates.Write(certs, "aunce", 30, []);

        var plain = SiloSettings(redis.Address, "nt", work, certs: null);
        using (var silo = AunceProcess.Start(work, ["silo"], plain))
        {
            await silo.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(2, silo.Process.ExitCode);
            Assert.Contains("error: configuration: Aunce:Tls: a silo on Redis clustering without mutual TLS", silo.Errors, StringComparison.Ordinal);
        }

        var wrong = SiloSettings(redis.Address, "wp", work, certs);
        wrong["Aunce:Silo:RedisPassword"] = "not-the-password";
        using (var silo = AunceProcess.Start(work, ["silo"], wrong))
        {
            await silo.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(2, silo.Process.ExitCode);
            Assert.Contains("error: Redis refused this host's password", silo.Errors, StringComparison.Ordinal);
            Assert.DoesNotContain("not-the-password", silo.Log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_tls_cluster_refuses_clients_without_a_certificate_of_its_ca_and_serves_one_with_it()
    {
        using var redis = await PasswordRedis.StartAsync();
        var work = CliHarness.TempDirectory();
        var certs = Path.Combine(work, "certs");
        var other = Path.Combine(work, "other");
        ClusterCertificates.Write(certs, "aunce", 30, []);
        ClusterCertificates.Write(other, "intruder", 30, []);
        var both = Path.Combine(work, "both-cas.pem");   // a client that trusts the cluster, with a certificate the cluster never issued
        await File.WriteAllTextAsync(both, await File.ReadAllTextAsync(Path.Combine(certs, "ca.pem")) + await File.ReadAllTextAsync(Path.Combine(other, "ca.pem")));

        var cluster = $"s{Guid.NewGuid():N}"[..12];
        var settings = SiloSettings(redis.Address, cluster, work, certs);
        using var silo = AunceProcess.Start(work, ["silo"], settings);
        await silo.WaitForLineAsync(l => l.Contains("Application started", StringComparison.Ordinal), TimeSpan.FromMinutes(2), "the TLS silo starting");

        string[] Client(string? password, params string[] tls) =>
        [
            "silo", "drain", "no-such-silo", "--config", $"Aunce:Cluster:Redis={redis.Address}", "--config", $"Aunce:Cluster:ClusterId={cluster}",
            "--config", $"Aunce:Cluster:ServiceId={cluster}", "--config", "Aunce:Cluster:ConnectTimeoutSeconds=4",
            .. password is null ? Array.Empty<string>() : ["--config", $"Aunce:Cluster:RedisPassword={password}"],
            .. tls.SelectMany(t => new[] { "--config", t }),
        ];
        string[] Tls(string dir, string? ca = null) =>
            [$"Aunce:Tls:CertificatePath={Path.Combine(dir, "client.pem")}", $"Aunce:Tls:KeyPath={Path.Combine(dir, "client.key")}", $"Aunce:Tls:CaPath={ca ?? Path.Combine(dir, "ca.pem")}"];

        var refused = new (string What, string[] Args, string Expected)[]
        {
            ("no certificate", Client(Password), "without mutual TLS would let anyone"),
            ("no TLS at all (the insecure opt-out)", Client(Password, "Aunce:Tls:AllowInsecureCluster=true"), "a cluster requires mutual TLS"),
            ("another cluster's CA", Client(Password, Tls(other)), "the gateways accept only a certificate issued by the cluster's CA"),
            ("a certificate the cluster never issued", Client(Password, Tls(other, both)), "the gateways accept only a certificate issued by the cluster's CA"),
            ("the cluster's certificate, no Redis password", Client(null, Tls(certs)), "NOAUTH"),
            ("the cluster's certificate, a wrong Redis password", Client("wrong-password", Tls(certs)), "Redis refused the password"),
        };
        foreach (var (what, args, expected) in refused)
        {
            var (code, output, err) = await CliHarness.Run(args);
            Assert.True(code == 2, $"{what}: exit {code}\n{output}\n{err}");
            var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("error: ", line, StringComparison.Ordinal);
            Assert.Contains(expected, line, StringComparison.Ordinal);
            Assert.DoesNotContain("no active silo", line, StringComparison.Ordinal);   // it never saw the cluster's silos
        }

        // The cluster's own client certificate is served: it reads the membership through the gateway.
        var (ok, okOutput, okErr) = await CliHarness.Run(Client(Password, Tls(certs)));
        Assert.True(ok == 2, okOutput + okErr);
        Assert.Contains($"'no-such-silo' names no active silo of cluster '{cluster}'; its active silos: ", okErr, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{settings["Aunce:Silo:SiloPort"]}", okErr, StringComparison.Ordinal);
        Assert.False(silo.Process.HasExited, silo.Log);
    }

    private static Dictionary<string, string> SiloSettings(string redis, string cluster, string work, string? certs)
    {
        var settings = new Dictionary<string, string>
        {
            ["Aunce:Silo:Clustering"] = "redis",
            ["Aunce:Silo:GrainStorage"] = "redis",
            ["Aunce:Silo:Redis"] = redis,
            ["Aunce:Silo:RedisPassword"] = Password,
            ["Aunce:Silo:ClusterId"] = cluster,
            ["Aunce:Silo:ServiceId"] = cluster,
            ["Aunce:Silo:SiloPort"] = CliHarness.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Aunce:Silo:GatewayPort"] = CliHarness.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Aunce:Checkpoints:Path"] = Path.Combine(work, "checkpoints"),
            ["Aunce:Training:TorchThreads"] = "1",
        };
        if (certs is not null)
        {
            settings["Aunce:Tls:CertificatePath"] = Path.Combine(certs, ClusterCertificates.SiloCertificate);
            settings["Aunce:Tls:KeyPath"] = Path.Combine(certs, ClusterCertificates.SiloKey);
            settings["Aunce:Tls:CaPath"] = Path.Combine(certs, ClusterCertificates.CaCertificate);
        }

        return settings;
    }

    /// <summary>A redis-server of this test's own, on a free loopback port, requiring <see cref="Password"/>; stopped by its PID.</summary>
    private sealed class PasswordRedis : IDisposable
    {
        private readonly Process _process;

        private PasswordRedis(Process process, int port)
        {
            _process = process;
            Address = $"127.0.0.1:{port}";
        }

        public string Address { get; }

        public static async Task<PasswordRedis> StartAsync()
        {
            var port = CliHarness.FreePort();
            var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no", "--requirepass", Password })
            {
                start.ArgumentList.Add(a);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start (./test.sh installs it)");
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.Contains("Ready to accept connections", StringComparison.Ordinal) == true)
                {
                    ready.TrySetResult();
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (await Task.WhenAny(ready.Task, Task.Delay(TimeSpan.FromSeconds(30))) != ready.Task)
            {
                process.Kill();
                throw new InvalidOperationException($"redis-server on port {port} did not become ready");
            }

            return new PasswordRedis(process, port);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }
}
