using AunceSearch.Api;
using Microsoft.AspNetCore.Builder;
using Orleans.Dashboard;

namespace AunceSearch.Hosting;

/// <summary>What a silo with <c>Aunce:Api:Enabled</c> serves over HTTP: the API and dashboard, and Orleans' own dashboard.</summary>
public static class AunceWebHosting
{
    /// <summary>The Orleans dashboard's path (cluster internals: silos, grain activations, method latencies).</summary>
    public const string OrleansDashboardPrefix = "/orleans";

    public static WebApplication MapAunceWeb(this WebApplication app)
    {
        app.MapAunceApi();
        var api = AunceConfiguration.Read(app.Configuration).Api;
        if (api.Enabled && api.OrleansDashboard)
        {
            app.MapOrleansDashboard(routePrefix: OrleansDashboardPrefix);
        }

        return app;
    }
}
