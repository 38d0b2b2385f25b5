using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Providers;

namespace AunceSearch.Grains;

/// <summary>
/// <c>aunce silo drain ADDRESS</c> on the silo's side. The command travels on Orleans' control channel
/// (<c>IManagementGrain.SendControlCommandToProvider</c>, which reaches this service on every silo); the silo it
/// names stops as on SIGTERM: its folds stop training at the next step, keep every stored epoch and report nothing, the
/// silo leaves membership, and the coordinator silos re-drive the sweeps so the folds resume on other trainers. A drain is
/// never counted as a failure.
/// </summary>
public sealed partial class SiloDrain(ILocalSiloDetails silo, IHostApplicationLifetime lifetime, ILogger<SiloDrain> logger) : IControllable
{
    /// <summary>The name the service is registered under (a keyed <see cref="IControllable"/>).</summary>
    public const string ProviderName = "aunce-drain";

    /// <summary>The one command: drain the silo whose address (<see cref="SiloAddress.ToParsableString"/>) is the argument.</summary>
    public const int DrainCommand = 1;

    public Task<object?> ExecuteCommand(int command, object? arg)
    {
        if (command != DrainCommand || arg is not string target || target != silo.SiloAddress.ToParsableString())
        {
            return Task.FromResult<object?>(false);
        }

        LogDraining(logger, silo.Name, silo.SiloAddress);
        lifetime.StopApplication();   // what SIGTERM does: the host stops the silo gracefully
        return Task.FromResult<object?>(true);
    }

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "Silo {Name} ({Address}) drains on request (aunce silo drain): its folds stop at the next step and move to other trainers")]
    private static partial void LogDraining(ILogger logger, string name, SiloAddress address);
}
