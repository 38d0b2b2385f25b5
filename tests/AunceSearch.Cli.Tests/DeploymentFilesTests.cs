using AunceSearch.Hosting;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// docker-compose.yml and deploy/k8s cannot run here (no Docker engine, no Kubernetes), so they are checked statically: the
/// services and resources exist, and every Aunce__* variable is read as a silo reads it (AunceConfiguration: unknown names,
/// bad values and bad ranges are errors), so a typo cannot silently fall back to a default.
/// </summary>
public sealed class DeploymentFilesTests
{
    private static string RepoRoot => AunceSearch.Tests.TestFixtures.RepositoryRoot;

    private static YamlMappingNode Compose()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(RepoRoot, "docker-compose.yml"))));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static Dictionary<string, string> Environment(YamlMappingNode service)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(YamlMappingNode map)
        {
            foreach (var (k, v) in map.Children)
            {
                var key = ((YamlScalarNode)k).Value!;
                if (key == "<<")
                {
                    Add((YamlMappingNode)v);
                }
                else
                {
                    env[key] = ((YamlScalarNode)v).Value ?? "";
                }
            }
        }

        Add((YamlMappingNode)service.Children[new YamlScalarNode("environment")]);
        return env;
    }

    [Fact]
    public void Compose_describes_redis_azurite_a_coordinator_and_a_gpu_trainer()
    {
        var services = (YamlMappingNode)Compose().Children[new YamlScalarNode("services")];
        var names = services.Children.Keys.Select(k => ((YamlScalarNode)k).Value).ToList();
        Assert.Equal(["redis", "azurite", "silo-coordinator", "silo-gpu", "prometheus", "grafana"], names);
        var prometheus = Serialize((YamlMappingNode)services.Children[new YamlScalarNode("prometheus")]);
        Assert.Contains("./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml", prometheus);
        foreach (var mounted in new[] { "deploy/prometheus/prometheus.yml", "deploy/grafana/provisioning/datasources/prometheus.yml", "deploy/grafana/provisioning/dashboards/aunce.yml", "dashboards/aunce-sweeps.json" })
        {
            Assert.True(File.Exists(Path.Combine(RepoRoot, mounted)), $"{mounted} is mounted by docker-compose.yml but missing");
        }
        var gpu = (YamlMappingNode)services.Children[new YamlScalarNode("silo-gpu")];
        Assert.Equal("true", Environment(gpu)["Aunce__Silo__Trainer"]);
        Assert.Contains("driver: nvidia", Serialize(gpu));
        Assert.Equal("false", Environment((YamlMappingNode)services.Children[new YamlScalarNode("silo-coordinator")])["Aunce__Silo__Trainer"]);
    }

    [Theory]
    [InlineData("silo-coordinator")]
    [InlineData("silo-gpu")]
    public void Every_Aunce_variable_names_a_real_setting_and_validates(string serviceName)
    {
        var services = (YamlMappingNode)Compose().Children[new YamlScalarNode("services")];
        var env = Environment((YamlMappingNode)services.Children[new YamlScalarNode(serviceName)]);
        var settings = StrictSettings(env);
        Assert.Equal("redis", settings.Silo.Clustering);
        Assert.Equal("azure-blob", settings.Checkpoints.Store);
        Assert.Equal(serviceName == "silo-gpu", !settings.Silo.Coordinator);
    }

    /// <summary>The Aunce__* variables read the way a silo reads them: unknown names, bad values and bad ranges throw.</summary>
    private static AunceSettings StrictSettings(IReadOnlyDictionary<string, string> env) =>
        AunceConfiguration.Read(new ConfigurationBuilder()
            .AddInMemoryCollection(env.Where(kv => kv.Key.StartsWith("Aunce__", StringComparison.Ordinal))
                .Select(kv => new KeyValuePair<string, string?>(kv.Key.Replace("__", ":", StringComparison.Ordinal), kv.Value)))
            .Build());

    private static string K8s => Path.Combine(RepoRoot, "deploy", "k8s");

    /// <summary>Every document of every manifest kustomization.yaml lists, as (kind, name, node).</summary>
    private static List<(string Kind, string Name, YamlMappingNode Node)> Manifests()
    {
        var kustomization = Load(Path.Combine(K8s, "kustomization.yaml")).Single();
        var files = ((YamlSequenceNode)kustomization.Children[new YamlScalarNode("resources")]).Select(n => ((YamlScalarNode)n).Value!).ToList();
        Assert.Equal(Directory.GetFiles(K8s, "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").Order(), files.Order());
        return [.. files.SelectMany(f => Load(Path.Combine(K8s, f))).Select(d => (Scalar(d, "kind"), Scalar((YamlMappingNode)d.Children[new YamlScalarNode("metadata")], "name"), d))];
    }

    private static IEnumerable<YamlMappingNode> Load(string file)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(file)));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode);
    }

    private static string Scalar(YamlMappingNode map, string key) => ((YamlScalarNode)map.Children[new YamlScalarNode(key)]).Value!;

    private static YamlMappingNode Map(YamlNode node, params string[] path) =>
        path.Aggregate((YamlMappingNode)node, (m, key) => (YamlMappingNode)m.Children[new YamlScalarNode(key)]);

    [Fact]
    public void Kubernetes_manifests_hold_redis_coordinators_gpu_trainers_secrets_rbac_and_disruption_budgets()
    {
        var all = Manifests();
        var kinds = all.Select(m => $"{m.Kind}/{m.Name}").ToHashSet();
        foreach (var expected in new[]
        {
            "Namespace/aunce", "ServiceAccount/aunce-silo", "Role/aunce-silo", "RoleBinding/aunce-silo",
            "StatefulSet/redis", "Service/redis", "PersistentVolumeClaim/aunce-data", "Deployment/aunce-coordinator", "Deployment/aunce-trainer",
            "PodDisruptionBudget/aunce-coordinator", "PodDisruptionBudget/aunce-trainer", "PodDisruptionBudget/redis", "Service/aunce-metrics",
            "NetworkPolicy/default-deny-ingress", "NetworkPolicy/aunce-silos", "NetworkPolicy/redis",
        })
        {
            Assert.Contains(expected, kinds);
        }

        Assert.DoesNotContain(all, m => m.Kind == "Secret");   // secrets are created by the operator (deploy/README.md), never committed
        foreach (var (role, trainer) in new[] { ("coordinator", false), ("trainer", true) })
        {
            var deployment = all.Single(m => m.Kind == "Deployment" && m.Name == $"aunce-{role}").Node;
            var template = Map(deployment, "spec", "template");
            var labels = Map(template, "metadata", "labels");
            Assert.Equal("aunce", Scalar(labels, "orleans/serviceId"));
            Assert.Equal("aunce", Scalar(labels, "orleans/clusterId"));
            var pod = Map(template, "spec");
            Assert.Equal("aunce-silo", Scalar(pod, "serviceAccountName"));
            var container = (YamlMappingNode)((YamlSequenceNode)pod.Children[new YamlScalarNode("containers")]).Single();

            // Environment: plain values and secret references, resolved as the pod would see them.
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (YamlMappingNode e in (YamlSequenceNode)container.Children[new YamlScalarNode("env")])
            {
                var name = Scalar(e, "name");
                if (e.Children.ContainsKey(new YamlScalarNode("value")))
                {
                    env[name] = Scalar(e, "value");
                }
                else if (Map(e, "valueFrom").Children.ContainsKey(new YamlScalarNode("secretKeyRef")))
                {
                    // A secret the operator creates: a stand-in of the right shape.
                    var reference = Map(e, "valueFrom", "secretKeyRef");
                    Assert.Equal("aunce-secrets", Scalar(reference, "name"));
                    env[name] = Scalar(reference, "key") == "checkpoints-connection-string"
                        ? "DefaultEndpointsProtocol=https;AccountName=example;AccountKey=c3RhbmQtaW4=;EndpointSuffix=core.windows.net"
                        : "stand-in-secret";
                }
                else
                {
                    env[name] = "(from the pod)";
                }
            }

            foreach (var podVariable in new[] { "POD_NAME", "POD_NAMESPACE", "POD_IP", "ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID" })
            {
                Assert.Contains(podVariable, env.Keys);
            }

            var settings = StrictSettings(env);
            Assert.True(settings.Silo.Kubernetes);
            Assert.Equal(("redis", "redis"), (settings.Silo.Clustering, settings.Silo.GrainStorage));
            Assert.Equal((trainer, !trainer), (settings.Silo.Trainer, settings.Silo.Coordinator));
            Assert.Equal("azure-blob", settings.Checkpoints.Store);
            Assert.True(settings.Tls.IsSet);
            Assert.Equal("stand-in-secret", settings.Silo.RedisPassword);

            var resources = Map(container, "resources");
            Assert.Equal(trainer, Map(resources, "limits").Children.ContainsKey(new YamlScalarNode("nvidia.com/gpu")));

            // Its disruption budget selects exactly its pods.
            var budget = all.Single(m => m.Kind == "PodDisruptionBudget" && m.Name == $"aunce-{role}").Node;
            var selector = Map(budget, "spec", "selector", "matchLabels");
            Assert.All(selector.Children, kv => Assert.Equal(((YamlScalarNode)kv.Value).Value, Scalar(labels, ((YamlScalarNode)kv.Key).Value!)));
        }
    }

    /// <summary>
    /// What <c>kubectl kustomize deploy/k8s</c> renders (the objects <c>kubectl apply -k</c> would send) holds the hardening
    /// SECURITY.md promises: every pod non-root with a read-only root filesystem, no privilege escalation and no
    /// capabilities; every image at an exact version or digest; probes on the silos; ingress denied unless a policy allows
    /// it; Redis with a password, resources and a disruption budget; no Secret and no key in the rendered objects.
    /// </summary>
    [Fact]
    public void Kustomize_renders_non_root_read_only_pods_with_pinned_images_probes_and_network_policies()
    {
        var start = new System.Diagnostics.ProcessStartInfo("kubectl", ["kustomize", K8s]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var kubectl = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start (./test.sh installs kubernetes-client)");
        var rendered = kubectl.StandardOutput.ReadToEnd();
        var errors = kubectl.StandardError.ReadToEnd();
        kubectl.WaitForExit();
        Assert.True(kubectl.ExitCode == 0, errors);
        var stream = new YamlStream();
        stream.Load(new StringReader(rendered));
        var objects = stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
        Assert.True(objects.Count >= 15, rendered);
        Assert.DoesNotContain(objects, o => Scalar(o, "kind") == "Secret");
        Assert.DoesNotContain("AccountKey=", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("password=", rendered, StringComparison.OrdinalIgnoreCase);

        var workloads = objects.Where(o => Scalar(o, "kind") is "Deployment" or "StatefulSet").ToList();
        Assert.Equal(3, workloads.Count);
        foreach (var workload in workloads)
        {
            var name = $"{Scalar(workload, "kind")}/{Scalar(Map(workload, "metadata"), "name")}";
            Assert.Equal("aunce", Scalar(Map(workload, "metadata"), "namespace"));
            var pod = Map(workload, "spec", "template", "spec");
            var podSecurity = Map(pod, "securityContext");
            Assert.True(Scalar(podSecurity, "runAsNonRoot") == "true", name);
            Assert.NotEqual("0", Scalar(podSecurity, "runAsUser"));
            Assert.Equal("RuntimeDefault", Scalar(Map(podSecurity, "seccompProfile"), "type"));
            foreach (YamlMappingNode container in (YamlSequenceNode)pod.Children[new YamlScalarNode("containers")])
            {
                var security = Map(container, "securityContext");
                Assert.True(Scalar(security, "readOnlyRootFilesystem") == "true", name);
                Assert.True(Scalar(security, "allowPrivilegeEscalation") == "false", name);
                Assert.Equal(["ALL"], ((YamlSequenceNode)Map(security, "capabilities").Children[new YamlScalarNode("drop")]).Select(n => ((YamlScalarNode)n).Value));
                var image = Scalar(container, "image");
                Assert.Matches(@"(@sha256:[0-9a-f]{64}$)|(:\d+\.\d+\.\d+[^:@/]*$)", image);   // an exact version or a digest, never latest or a bare major
                Assert.True(container.Children.ContainsKey(new YamlScalarNode("readinessProbe")), $"{name}: no readiness probe");
                Assert.True(container.Children.ContainsKey(new YamlScalarNode("livenessProbe")), $"{name}: no liveness probe");
                Assert.True(Map(container, "resources").Children.ContainsKey(new YamlScalarNode("limits")), $"{name}: no resource limits");
                var mounts = container.Children.TryGetValue(new YamlScalarNode("volumeMounts"), out var m) ? ((YamlSequenceNode)m).Cast<YamlMappingNode>().Select(v => Scalar(v, "mountPath")).ToList() : [];
                Assert.Contains("/tmp", mounts);   // the one writable place a read-only root leaves for temporary files
            }
        }

        var redis = workloads.Single(w => Scalar(w, "kind") == "StatefulSet");
        var redisContainer = (YamlMappingNode)((YamlSequenceNode)Map(redis, "spec", "template", "spec").Children[new YamlScalarNode("containers")]).Single();
        Assert.Contains("--requirepass", ((YamlSequenceNode)redisContainer.Children[new YamlScalarNode("args")]).Select(n => ((YamlScalarNode)n).Value));
        Assert.Contains(objects, o => Scalar(o, "kind") == "PodDisruptionBudget" && Scalar(Map(o, "metadata"), "name") == "redis");

        // Ingress: denied for every pod of the namespace unless a policy allows it; silos take the silo port only from silos.
        var policies = objects.Where(o => Scalar(o, "kind") == "NetworkPolicy").ToDictionary(o => Scalar(Map(o, "metadata"), "name"));
        var deny = Map(policies["default-deny-ingress"], "spec");
        Assert.Empty(Map(deny, "podSelector").Children);
        Assert.False(deny.Children.ContainsKey(new YamlScalarNode("ingress")));
        var silos = Map(policies["aunce-silos"], "spec");
        var siloPortRule = ((YamlSequenceNode)silos.Children[new YamlScalarNode("ingress")]).Cast<YamlMappingNode>()
            .Single(r => ((YamlSequenceNode)r.Children[new YamlScalarNode("ports")]).Cast<YamlMappingNode>().Any(p => Scalar(p, "port") == "11111"));
        Assert.Equal("aunce", Scalar(Map(((YamlSequenceNode)siloPortRule.Children[new YamlScalarNode("from")]).Cast<YamlMappingNode>().Single(), "podSelector", "matchLabels"), "app"));
    }

    [Fact]
    public void Compose_requires_a_redis_password_and_tls_and_gives_silos_longer_than_a_drain_to_stop()
    {
        var services = (YamlMappingNode)Compose().Children[new YamlScalarNode("services")];
        var redis = (YamlMappingNode)services.Children[new YamlScalarNode("redis")];
        Assert.Contains("--requirepass", ((YamlSequenceNode)redis.Children[new YamlScalarNode("command")]).Select(n => ((YamlScalarNode)n).Value));
        foreach (var (key, node) in services.Children)
        {
            var image = Scalar((YamlMappingNode)node, "image");
            Assert.Matches(@":v?\d+\.\d+\.\d+", image);   // exact versions, never latest
        }

        foreach (var name in new[] { "silo-coordinator", "silo-gpu" })
        {
            var silo = (YamlMappingNode)services.Children[new YamlScalarNode(name)];
            var env = Environment(silo);
            Assert.StartsWith("${AUNCE_REDIS_PASSWORD:?", env["Aunce__Silo__RedisPassword"], StringComparison.Ordinal);   // from the environment, never the file
            Assert.True(StrictSettings(env).Tls.IsSet);
            var grace = Scalar(silo, "stop_grace_period");
            Assert.True(int.Parse(grace.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture) > CliApp.SignalGrace.TotalSeconds, $"{name}: {grace}");
            Assert.Equal("true", Scalar(silo, "read_only"));
        }
    }

    private static string Serialize(YamlNode node)
    {
        var stream = new YamlStream(new YamlDocument(node));
        using var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }
}
