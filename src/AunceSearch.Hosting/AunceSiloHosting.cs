using System.Net;
using AunceSearch.Checkpoints;
using AunceSearch.Grains;
using AunceSearch.Grains.Placement;
using AunceSearch.Hosting;
using AunceSearch.Training;
using AunceSearch.Training.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Placement;
using Orleans.Runtime.Hosting;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Microsoft.Extensions.Hosting;

/// <summary>Composes an AunceSearch silo from configuration.</summary>
public static class AunceSiloHosting
{
    /// <summary>
    /// Adds an Orleans silo with AunceSearch's grains, placement filter, grain storage, checkpoint store, training
    /// executor and telemetry, all from <c>Aunce:*</c> configuration. Unknown, malformed or out-of-range settings fail here
    /// with their names (<see cref="AunceConfigurationException"/>).
    /// </summary>
    public static IHostApplicationBuilder AddAunceSilo(this IHostApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var (silo, checkpoints, training, telemetry, _, api, tls) = AunceConfiguration.Read(config);
        var clusterTls = silo.Clustering == "redis" && tls.IsSet ? ClusterTls.Load(tls) : null;
        builder.Services.AddAunceOptions(config);

        // Polly logs every execution of a pipeline at Information (a line per journal write and checkpoint save); its
        // retries are Warnings and stay, and its meter counts the rest.
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.Services.AddAunceTraining(checkpoints, training);
        builder.UseOrleans(orleans =>
        {
            if (api.Enabled && api.OrleansDashboard)
            {
                orleans.AddDashboard(o => o.HideTrace = true);   // served by the API's Kestrel under /orleans (MapAunceWeb), behind the token; no live log stream
            }

            if (silo.Clustering == "redis")
            {
                orleans.UseRedisClustering(o => o.ConfigurationOptions = RedisConnection.Options(silo.Redis!, silo.RedisPassword));
                if (clusterTls is not null)
                {
                    orleans.UseTls(clusterTls.Identity, clusterTls.Configure);   // every silo and gateway connection: mutual TLS against the cluster's CA
                }
                else
                {
                    orleans.Services.AddHostedService<InsecureClusterWarning>();   // Aunce:Tls:AllowInsecureCluster, said at every start
                }

                if (silo.Kubernetes)
                {
                    orleans.UseKubernetesHosting();   // endpoints and cluster identity from the pod
                }
                else
                {
                    var ip = silo.ResolveAdvertisedIp();
                    orleans.ConfigureEndpoints(ip, silo.SiloPort, silo.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(ip));
                }
            }
            else
            {
                orleans.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort);
            }

            orleans.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = silo.ClusterId;
                o.ServiceId = silo.ServiceId;
            });
            orleans.AddAunceSearch(silo);
        });

        if (!string.IsNullOrWhiteSpace(telemetry.OtlpEndpoint) || telemetry.PrometheusPort > 0)
        {
            var otel = builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService("aunce-silo"));
            otel.WithTracing(t =>
            {
                t.AddSource(AunceTelemetry.ActivitySourceName, "Microsoft.Orleans.Application", "Microsoft.Orleans.Runtime");
                t.AddAspNetCoreInstrumentation();   // HTTP API requests: a traceparent header continues the caller's trace into the grain calls
                if (!string.IsNullOrWhiteSpace(telemetry.OtlpEndpoint))
                {
                    t.AddOtlpExporter(o => o.Endpoint = new Uri(telemetry.OtlpEndpoint));
                }
            });
            otel.WithMetrics(m =>
            {
                m.AddMeter(AunceTelemetry.MeterName, "Microsoft.Orleans", "Polly");   // Polly: the retry pipeline's attempts
                if (!string.IsNullOrWhiteSpace(telemetry.OtlpEndpoint))
                {
                    m.AddOtlpExporter(o => o.Endpoint = new Uri(telemetry.OtlpEndpoint));
                }

                if (telemetry.PrometheusPort > 0)
                {
                    m.AddPrometheusHttpListener(o =>
                    {
                        o.Host = telemetry.PrometheusHost;
                        o.Port = telemetry.PrometheusPort;
                    });
                }
            });
        }

        return builder;
    }

    /// <summary>The services a silo's grains need: the checkpoint store and the training executor.</summary>
    public static IServiceCollection AddAunceTraining(this IServiceCollection services, CheckpointStoreOptions checkpoints, TrainingExecutorOptions training)
    {
        services.AddSingleton(checkpoints);
        services.AddSingleton(CheckpointStoreFactory.Create(checkpoints));
        services.AddSingleton<AunceSearch.Api.ICheckpointExporter, TorchCheckpointExporter>();   // the API's downloads
        services.AddSingleton(training);
        services.AddSingleton(_ => TrainerDeviceDetection.Detect(training));
        services.AddSingleton(sp =>
        {
            // As many concurrent trainings as the silo advertises slots (devices × trials per device on CUDA).
            var devices = sp.GetRequiredService<TrainerDevices>();
            var slots = devices.Slots;
            var executor = new TrainingExecutor(training with { Slots = slots });
            var device = devices.Devices.Count > 0 ? devices.Devices[0].Kind : "cpu";   // detected once, at start-up
            AunceTelemetry.ObserveSlots(() => (executor.Busy, slots, device));
            return executor;
        });
        if (training.SimulatedEpochSeconds > 0)
        {
            // The fixed-cost trainer of the benchmarks: folds sleep through their epochs on as many slots as advertised.
            services.AddSingleton(sp =>
            {
                var slots = sp.GetRequiredService<TrainerDevices>().Slots;
                var trainer = new FixedCostTrainer(TimeSpan.FromSeconds(training.SimulatedEpochSeconds), slots);
                AunceTelemetry.ObserveSlots(() => (trainer.Busy, slots, "simulated"));
                return trainer;
            });
            services.AddSingleton<IFoldTrainingRunner>(sp => sp.GetRequiredService<FixedCostTrainer>());
        }
        else
        {
            services.AddSingleton<IFoldTrainingRunner>(sp => sp.GetRequiredService<TrainingExecutor>());
        }
        return services;
    }

    /// <summary>
    /// AunceSearch's part of a silo (clustering aside): grain storage, trainer metadata, the trainer placement filter,
    /// activity propagation and optional fast failure detection.
    /// </summary>
    public static ISiloBuilder AddAunceSearch(this ISiloBuilder orleans, AunceSiloOptions silo)
    {
        orleans.Services.Configure<SweepActivationOptions>(o => o.RestartRunningTrials = silo.RestartRunningSweeps);
        orleans.Services.AddPlacementFilter<RequireSiloMetadataFilterStrategy, RequireSiloMetadataFilterDirector>(ServiceLifetime.Transient);
        if (silo.FastFailureDetection)
        {
            orleans.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
            });
        }
        else
        {
            // A hung trainer (SIGSTOP, a wedged driver) must be declared dead within 10 s so its folds move (issue 12).
            // Orleans' defaults (5 s probes adapting up to 20 s, 3 misses, 60 s table refresh) take 15 s to over a minute.
            // Here: probes every 1.2 s adapting between 0.8 and 2 s, 3 misses, 2 votes. Orleans also withholds a vote while
            // the suspect's connection carried a message within 5 probe periods, so a hang is declared about 6-9 s after it
            // starts, and SiloLossWatcher re-drives the sweeps at once. The price: a silo whose process stalls that long
            // (swap, a long GC pause) is declared dead too; its folds resume elsewhere from their checkpoints.
            orleans.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1.2);
                o.MinProbeTimeout = TimeSpan.FromSeconds(0.8);
                o.MaxProbeTimeout = TimeSpan.FromSeconds(2);
                o.NumMissedProbesLimit = 3;
                o.NumVotesForDeathDeclaration = 2;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(10);
            });
        }

        if (silo.GrainStorage == "redis")
        {
            orleans.AddRedisGrainStorage(GrainStorageNames.Sweeps, (Microsoft.Extensions.Options.OptionsBuilder<Orleans.Persistence.RedisStorageOptions> b) =>
                b.Configure<IServiceProvider>((o, sp) =>
                {
                    o.ConfigurationOptions = RedisConnection.Options(silo.Redis!, silo.RedisPassword);
                    o.GrainStorageSerializer = SweepSerializer(sp);
                }));
        }
        else if (silo.GrainStorage == "file")
        {
            orleans.Services.AddGrainStorage(GrainStorageNames.Sweeps, (sp, name) => new FileGrainStorage(name, silo.StatePath, SweepSerializer(sp)));
        }
        else
        {
            orleans.AddMemoryGrainStorage(GrainStorageNames.Sweeps);
        }

        // The sweep's re-drive reminder (SweepGrain): in Redis with a cluster, so it outlives any silo; in memory for one process.
        if (silo.Redis is not null && (silo.GrainStorage == "redis" || silo.Clustering == "redis"))
        {
            orleans.UseRedisReminderService(o => o.ConfigurationOptions = RedisConnection.Options(silo.Redis, silo.RedisPassword));
        }
        else
        {
            orleans.UseInMemoryReminderService();
        }

        orleans.UseSiloMetadata(new Dictionary<string, string>
        {
            [TrainerSilo.MetadataKey] = silo.Trainer ? "true" : "false",
            [TrainerSilo.DeviceKey] = silo.Trainer ? (TorchRuntime.CudaAvailable ? "cuda" : "cpu") : "none",
            [TrainerSilo.CoordinatorKey] = silo.Coordinator ? "true" : "false",
        });
        orleans.Services.AddKeyedSingleton<Orleans.Providers.IControllable, SiloDrain>(SiloDrain.ProviderName);   // aunce silo drain
        orleans.Services.Configure<Orleans.Serialization.Configuration.TypeManifestOptions>(o => o.AddAllowedType(typeof(SiloDrain)));   // named in the control call
        orleans.Services.AddSingleton<LocalFolds>();
        orleans.Services.AddStorageRetry();   // the Polly pipeline storage, checkpoint and cluster-call retries share
        if (silo.Trainer)
        {
            orleans.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, TrainerSlotAdvertiser>();   // slots to the director
        }

        if (silo.Coordinator)
        {
            orleans.Services.AddHostedService<SiloLossWatcher>();   // a dead silo's folds move at once, not at the next reminder
        }

        orleans.AddActivityPropagation();
        return orleans;
    }

    /// <summary>The sweeps' storage encoding: Orleans' binary serializer, reading the JSON that earlier versions wrote (<see cref="SweepStorageSerializer"/>); benchmarks use it too.</summary>
    public static SweepStorageSerializer SweepSerializer(IServiceProvider sp) => new(sp.GetRequiredService<Orleans.Serialization.Serializer>(),
        sp.GetService<Orleans.Storage.IGrainStorageSerializer>() ?? new Orleans.Storage.JsonGrainStorageSerializer(sp.GetRequiredService<Orleans.Serialization.OrleansJsonSerializer>()));
}
