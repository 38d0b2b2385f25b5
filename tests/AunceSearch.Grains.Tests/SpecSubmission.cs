using AunceSearch.Contracts;
using AunceSearch.Spec;

namespace AunceSearch.Grains.Tests;

/// <summary>Submits a YAML spec as the CLI does: parsed, validated and resolved on the client, and only the typed definition sent.</summary>
internal static class SpecSubmission
{
    public static Task<SweepStatus> StartSpecAsync(this ISweepGrain sweep, string yaml, string specFile, string baseDirectory) =>
        sweep.StartAsync(SweepSpecLoader.Parse(yaml, specFile, baseDirectory));
}
