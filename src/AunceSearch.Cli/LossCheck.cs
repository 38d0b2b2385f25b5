using System.Globalization;
using AunceSearch.Training.Loss;

namespace AunceSearch.Cli;

/// <summary>
/// <c>aunce loss check --vectors FILE</c>: computes every case of a file in the schema of
/// tests/fixtures/aunce/reference-vectors.json with the product's own AUNCE loss, WCE and metric code and prints one line per
/// case; exits 0 only if every loss is within 1e-5 relative and every gradient (or metric) within 1e-6 absolute.
/// </summary>
public static class LossCheck
{
    public static int Run(string file, TextWriter stdout, TextWriter stderr)
    {

        if (!File.Exists(file))
        {
            stderr.WriteLine($"error: {file}: vectors file not found");
            return ExitCodes.BadInput;
        }

        IReadOnlyList<ReferenceCaseResult> results;
        try
        {
            Training.Runtime.TorchRuntime.EnsureInitialized();
            results = ReferenceVectorCheck.Run(file);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or InvalidOperationException or ArgumentException or KeyNotFoundException or NullReferenceException)
        {
            stderr.WriteLine($"error: {file}: not a reference-vectors file: {e.Message}");
            return ExitCodes.BadInput;
        }

        var failed = 0;
        foreach (var r in results)
        {
            var ok = r.Passes();
            failed += ok ? 0 : 1;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(ok ? "ok  " : "FAIL")} {r.Name,-16} loss {r.Loss,12:G8} expected {r.ExpectedLoss,12:G8} |dloss|rel {r.RelativeLossError:E2}  max|dgrad_z| {r.MaxGradZError:E2}  max|dgrad_raw| {r.MaxGradRawError:E2}"));
        }

        stdout.WriteLine($"{results.Count - failed} of {results.Count} cases within tolerance (loss 1e-5 relative, gradients 1e-6 absolute)");
        return failed == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }
}
