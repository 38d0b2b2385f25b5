using Microsoft.Extensions.Hosting;

namespace AunceSearch.Cli;

/// <summary><c>aunce silo</c>: a long-running silo (a cluster member), configured through Aunce__* environment variables.</summary>
public static class SiloHost
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.AddAunceSilo();
        using var host = builder.Build();
        await host.RunAsync(cancellationToken);
        return ExitCodes.Ok;
    }
}
