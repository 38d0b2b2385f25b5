using AunceSearch.Api;
using AunceSearch.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace AunceSearch.Cli;

/// <summary>
/// <c>aunce silo</c>: a long-running silo (a cluster member), configured through Aunce__* environment variables. With
/// <c>Aunce__Api__Enabled=true</c> it also serves the HTTP API (<c>Aunce__Api__Urls</c>, <c>Aunce__Api__Token</c>).
/// </summary>
public static class SiloHost
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var probe = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
        args = HostArguments.WithoutConfigReload(args);
        if (!probe.GetValue<bool>("Aunce:Api:Enabled"))
        {
            var builder = Host.CreateApplicationBuilder(args);
            builder.AddAunceSilo();
            using var host = builder.Build();
            await host.RunAsync(cancellationToken);
            return ExitCodes.Ok;
        }

        var web = WebApplication.CreateSlimBuilder(args);
        web.AddAunceSilo();
        var api = AunceConfiguration.Read(web.Configuration).Api;
        web.Services.AddAunceApi(api);
        web.WebHost.UseAunceApiUrls(api);
        await using var app = web.Build();
        app.MapAunceWeb();
        await app.RunAsync();
        return ExitCodes.Ok;
    }
}

/// <summary>What every long-running host of the CLI (<c>aunce silo</c>, <c>aunce serve</c>) adds to its arguments.</summary>
public static class HostArguments
{
    /// <summary>The host setting that turns the reload of appsettings files off.</summary>
    public const string NoConfigReload = "--hostBuilder:reloadConfigOnChange=false";

    /// <summary>
    /// The generic host's defaults reload appsettings files when they change, through a file watcher on the content root
    /// (the working directory) with its subdirectories. A silo's working directory usually holds the checkpoint store
    /// (the default <c>.aunce/checkpoints</c>), so every checkpoint any trainer wrote woke every silo's watcher: in the
    /// scale benchmark that was a large share of a trainer's CPU per fold. A silo reads its settings once, at start
    /// (environment variables, as a cluster deploys it), so nothing is lost.
    /// </summary>
    public static string[] WithoutConfigReload(string[] args) => [.. args, NoConfigReload];
}
