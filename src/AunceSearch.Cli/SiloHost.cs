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
        web.WebHost.UseUrls(api.Urls);
        await using var app = web.Build();
        app.MapAunceWeb();
        await app.RunAsync();
        return ExitCodes.Ok;
    }
}
