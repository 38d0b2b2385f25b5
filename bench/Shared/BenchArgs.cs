using System.Globalization;
using System.Net;
using System.Net.Sockets;

/// <summary>
/// What the bench programs share (linked into each project, not a library): their <c>--name value</c> options after the
/// subcommand, and a free loopback port for the silos they start.
/// </summary>
internal sealed class BenchArgs
{
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);

    /// <param name="args">The program's arguments; options are read from <paramref name="first"/> on (after a subcommand: 1).</param>
    public BenchArgs(string[] args, int first = 1)
    {
        for (var i = first; i + 1 < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                _options[args[i]] = args[++i];
            }
        }
    }

    public bool Has(string name) => _options.ContainsKey(name);

    public string Get(string name, string fallback) => _options.TryGetValue(name, out var value) ? value : fallback;

    public int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    /// <summary>A loopback port free right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
