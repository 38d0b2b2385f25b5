using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AunceSearch.Api;

/// <summary>
/// Who may call what over HTTP. With a token (required beyond loopback) every surface but the dashboard's static page —
/// <c>/api/*</c> reads and writes, live events, downloads, the OpenAPI document and Orleans' dashboard — needs
/// <c>Authorization: Bearer TOKEN</c>, compared in constant time whatever its length; a 401 says how
/// (<c>WWW-Authenticate</c>). Without a token (loopback only) reads are open to this machine, but a request whose Host is
/// not a loopback name is refused (DNS rebinding), and a mutation needs the <see cref="RequestHeader"/> header, which no
/// other web page can send without a CORS preflight this server never grants; a cross-origin <c>Origin</c> on a mutation
/// is refused either way.
/// </summary>
public static class ApiAccess
{
    /// <summary>The header a mutation needs when no token is set (any value): a plain form or <c>fetch</c> from another site cannot send it.</summary>
    public const string RequestHeader = "X-Aunce-Request";

    private static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>Adds the access checks in front of every endpoint.</summary>
    public static IApplicationBuilder UseAunceAccess(this IApplicationBuilder app, AunceApiOptions options)
    {
        var expected = string.IsNullOrEmpty(options.Token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.Token));
        var loopbackOnly = options.LoopbackOnly;
        return app.Use(async (http, next) =>
        {
            var request = http.Request;
            if (loopbackOnly && !LoopbackHosts.Contains(request.Host.Host, StringComparer.OrdinalIgnoreCase))
            {
                await Refuse(http, StatusCodes.Status400BadRequest, $"Host '{request.Host}' is not this loopback server's; open it as http://127.0.0.1:PORT or http://localhost:PORT");
                return;
            }

            var mutation = !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method));
            if (mutation && request.Headers.Origin is { Count: > 0 } origin && !SameOrigin(origin.ToString(), request))
            {
                await Refuse(http, StatusCodes.Status403Forbidden, $"Origin '{origin}' is not this server: cross-site requests may not change anything");
                return;
            }

            var page = request.Path == "/" && !mutation;   // the dashboard's static page: no data; it asks for the token itself
            if (expected is not null && !page && !Authorized(request, expected))
            {
                http.Response.Headers.WWWAuthenticate = "Bearer realm=\"aunce\"";
                await Refuse(http, StatusCodes.Status401Unauthorized, "this needs Authorization: Bearer <Aunce:Api:Token>");
                return;
            }

            if (expected is null && mutation && !request.Headers.ContainsKey(RequestHeader))
            {
                await Refuse(http, StatusCodes.Status403Forbidden, $"a request that changes something needs the {RequestHeader} header (any value), so that no other web page can send it");
                return;
            }

            await next(http);
        });
    }

    /// <summary>Whether the request carries the token: the SHA-256 hashes are compared, so the time taken says nothing of the token or its length.</summary>
    private static bool Authorized(HttpRequest request, byte[] expected)
    {
        var header = request.Headers.Authorization.FirstOrDefault() ?? "";
        var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), expected);
    }

    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) &&
        string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase) &&
        string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);

    private static Task Refuse(HttpContext http, int status, string message) =>
        Results.Problem(detail: message, statusCode: status, extensions: new Dictionary<string, object?> { ["error"] = message }).ExecuteAsync(http);

    /// <summary>Whether <paramref name="uri"/>'s host is a loopback address or name.</summary>
    internal static bool IsLoopback(Uri uri) => uri.IsLoopback || (IPAddress.TryParse(uri.Host, out var ip) && IPAddress.IsLoopback(ip));
}
