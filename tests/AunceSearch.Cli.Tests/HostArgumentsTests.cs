using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Hosting;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// Long-running hosts (<c>aunce silo</c>, <c>aunce serve</c>) read their settings files once: the generic host's default
/// reload watches the working directory with its subdirectories, which on a silo holds the checkpoint store.
/// </summary>
public sealed class HostArgumentsTests
{
    [Fact]
    public void A_host_built_with_the_silo_arguments_watches_no_settings_file()
    {
        var dir = CliHarness.TempDirectory();
        var defaults = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = dir });
        var silo = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = dir, Args = HostArguments.WithoutConfigReload(["--Aunce:Silo:Trainer=true"]) });

        static List<JsonConfigurationSource> Files(HostApplicationBuilder b) => [.. ((IConfigurationBuilder)b.Configuration).Sources.OfType<JsonConfigurationSource>()];
        Assert.Contains(Files(defaults), s => s.ReloadOnChange);   // what the default would do: the check below can fail
        Assert.NotEmpty(Files(silo));
        Assert.All(Files(silo), s => Assert.False(s.ReloadOnChange, $"{s.Path} is watched for changes"));
        Assert.Equal("true", silo.Configuration["Aunce:Silo:Trainer"]);   // the silo's own arguments still apply
    }
}
