using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// A real <c>aunce</c> process for the multi-process tests: started through perl, which restores SIGINT's default before
/// it execs dotnet (same pid; a test run started as a background job of a non-interactive shell inherits SIGINT ignored,
/// and .NET honours an inherited ignore); its stdout and stderr collected line by line; waits on a line, not on time.
/// </summary>
internal sealed class AunceProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _errors = new();
    private readonly List<(Func<string, bool> Matches, TaskCompletionSource Seen)> _waiters = [];

    private AunceProcess(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => Received(e.Data, _output);
        process.ErrorDataReceived += (_, e) => Received(e.Data, _errors);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public int Id => Process.Id;

    public string Output => Read(_output);

    public string Errors => Read(_errors);

    /// <summary>Both streams, for failure messages.</summary>
    public string Log => $"{Output}\n--- stderr ---\n{Errors}";

    public static AunceProcess Start(string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("perl") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\"", "dotnet", Path.Combine(AppContext.BaseDirectory, "aunce.dll"), .. args])
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return new AunceProcess(Process.Start(start) ?? throw new InvalidOperationException("aunce did not start"));
    }

    /// <summary>Returns once a line of either stream matches; throws with the log when the process exits first or time runs out.</summary>
    public async Task WaitForLineAsync(Func<string, bool> matches, TimeSpan timeout, string what)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            if ((Output + Errors).Split('\n').Any(l => matches(l.TrimEnd('\r'))))
            {
                return;
            }

            _waiters.Add((matches, seen));
        }

        var exited = Process.WaitForExitAsync();
        if (await Task.WhenAny(seen.Task, exited, Task.Delay(timeout)) != seen.Task)
        {
            throw new InvalidOperationException($"{what}: not seen within {timeout.TotalSeconds:0} s{(Process.HasExited ? $" (exited {Process.ExitCode})" : "")}:\n{Log}");
        }
    }

    /// <summary>Sends a signal by name (TERM, INT, KILL) with kill(1).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", Id.ToString(CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    /// <summary>SIGKILL, and waits until it is gone.</summary>
    public void Kill()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        Process.Dispose();
    }

    private void Received(string? line, StringBuilder into)
    {
        if (line is null)
        {
            return;
        }

        lock (_waiters)
        {
            into.AppendLine(line);
            foreach (var waiter in _waiters.Where(w => w.Matches(line)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Seen.TrySetResult();
            }
        }
    }

    private string Read(StringBuilder from)
    {
        lock (_waiters)
        {
            return from.ToString();
        }
    }
}
