using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AunceSearch.Checkpoints;
using AunceSearch.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AunceSearch.Api;

/// <summary>Where the API listens, over what, and the token that guards it (section <c>Aunce:Api</c>; see <see cref="ApiAccess"/>).</summary>
public sealed class AunceApiOptions
{
    public const string SectionName = "Aunce:Api";

    /// <summary>Whether a silo serves the API (<c>aunce serve</c> always does).</summary>
    public bool Enabled { get; set; }

    /// <summary>Kestrel URLs; loopback only by default.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// Bearer token for every surface but the dashboard's static page (<see cref="ApiAccess"/>). Required when
    /// <see cref="Urls"/> binds anything but loopback; when set, required on loopback too. Pass it by environment
    /// (<c>Aunce__Api__Token</c>); it is never written to disk.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>The server certificate (PEM) for <c>https://</c> URLs.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The server certificate's private key (PEM, unencrypted).</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// A TLS-terminating proxy (an ingress, a load balancer) stands in front, so a plain <c>http://</c> URL beyond loopback
    /// is allowed: the token then travels encrypted up to the proxy.
    /// </summary>
    public bool BehindTlsProxy { get; set; }

    /// <summary>Whether Orleans' dashboard is served at <c>/orleans</c> (behind the token like the rest; its live log stream is never shown).</summary>
    public bool OrleansDashboard { get; set; } = true;

    /// <summary>The fewest characters a token may have: a guessable token is no lock (a random one: <c>openssl rand -hex 32</c>).</summary>
    public const int MinTokenLength = 32;

    /// <summary>Whether every URL binds a loopback address only.</summary>
    public bool LoopbackOnly => ParsedUrls().All(ApiAccess.IsLoopback);

    /// <summary>Whether any URL is <c>https://</c>.</summary>
    public bool UsesHttps => ParsedUrls().Any(u => u.Scheme == "https");

    public void Validate()
    {
        if (Token is { } token && token.Length < MinTokenLength)
        {
            throw new InvalidOperationException($"{SectionName}:Token: {token.Length} characters; a token needs at least {MinTokenLength} (a random one: openssl rand -hex 32)");
        }

        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new InvalidOperationException($"{SectionName}:Urls: '{url}' is not an http(s) URL");
            }

            var loopback = ApiAccess.IsLoopback(uri);
            if (!loopback && string.IsNullOrEmpty(Token))
            {
                throw new InvalidOperationException($"{SectionName}:Urls: '{url}' is not loopback; set {SectionName}:Token (every surface then needs it)");
            }

            if (!loopback && uri.Scheme == "http" && !BehindTlsProxy)
            {
                throw new InvalidOperationException($"{SectionName}:Urls: '{url}' would send the token in clear text beyond loopback; use https:// with " +
                                                    $"{SectionName}:CertificatePath and KeyPath, or set {SectionName}:BehindTlsProxy=true when a TLS-terminating proxy stands in front");
            }

            if (uri.Scheme == "https" && (string.IsNullOrWhiteSpace(CertificatePath) || string.IsNullOrWhiteSpace(KeyPath)))
            {
                throw new InvalidOperationException($"{SectionName}:Urls: '{url}' is https; set {SectionName}:CertificatePath and {SectionName}:KeyPath (PEM)");
            }
        }
    }

    private IEnumerable<Uri> ParsedUrls() =>
        Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri : null).OfType<Uri>();
}

/// <summary>
/// The HTTP API: read-only views of sweeps (paged, sorted, filtered trials with per-AU metrics, decisions with their
/// evidence), live events over server-sent events (resumable with <c>Last-Event-ID</c>), checkpoint downloads (exported
/// on the server, streamed, SHA-256 in a header) and cancel/resume. Ids and numbers are validated before any grain is
/// touched; checkpoint keys come from the sweep's own status, never from the request.
/// </summary>
public static class AunceApi
{
    /// <summary>The dashboard page (vanilla HTML, JS and SVG over this API; nothing from a CDN).</summary>
    private static readonly Lazy<string> Dashboard = new(() =>
    {
        using var stream = typeof(AunceApi).Assembly.GetManifestResourceStream("dashboard.index.html")
            ?? throw new InvalidOperationException("the dashboard page is not embedded in this build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>How long an event stream stays silent before a keep-alive comment (proxies close idle connections).</summary>
    private static readonly TimeSpan SseKeepAlive = TimeSpan.FromSeconds(15);

    private static readonly JsonSerializerOptions EventJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };

    public static IServiceCollection AddAunceApi(this IServiceCollection services, AunceApiOptions options)
    {
        options.Validate();
        services.AddSingleton(options);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            o.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        });
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            // Say how to authenticate: a bearer token on every operation (ApiAccess), required whenever the server has one.
            document.Components ??= new Microsoft.OpenApi.OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, Microsoft.OpenApi.IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new Microsoft.OpenApi.OpenApiSecurityScheme
            {
                Type = Microsoft.OpenApi.SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "Aunce:Api:Token (required beyond loopback; when set, on loopback too)",
            };
            document.Security ??= [];
            document.Security.Add(new Microsoft.OpenApi.OpenApiSecurityRequirement { [new Microsoft.OpenApi.OpenApiSecuritySchemeReference("bearer", document)] = [] });
            return Task.CompletedTask;
        }));

        // A query value that does not bind (?limit=abc) throws, so that it is answered like every other bad request: a
        // problem body naming the parameter and the value, never an empty 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    public static IEndpointRouteBuilder MapAunceApi(this IEndpointRouteBuilder app)
    {
        if (app is IApplicationBuilder pipeline)
        {
            pipeline.UseAunceAccess(app.ServiceProvider.GetRequiredService<AunceApiOptions>());   // first: nothing is read or answered before it
            pipeline.Use(async (http, next) =>
            {
                try
                {
                    await next(http);
                }
                catch (BadHttpRequestException e) when (!http.Response.HasStarted)
                {
                    await Problem(e.Message, e.StatusCode).ExecuteAsync(http);
                }
                catch (InvalidDataException e) when (!http.Response.HasStarted)
                {
                    // A sweep whose stored state is damaged: its record and what to do, never an empty 500.
                    await Problem(e.Message, StatusCodes.Status500InternalServerError).ExecuteAsync(http);
                }
            });
        }

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapGet("/", () => TypedResults.Content(Dashboard.Value, "text/html; charset=utf-8")).ExcludeFromDescription();
        var api = app.MapGroup("/api");
        api.MapGet("/sweeps", ListSweeps).WithName("ListSweeps").WithTags("Sweeps").WithSummary("every sweep the cluster has started, with its state and best trial");
        api.MapGet("/sweeps/{id}", GetSweep).WithName("GetSweep").WithTags("Sweeps").WithSummary("a sweep: state, trial counts by state, best trial, metric");
        api.MapGet("/sweeps/{id}/trials", ListTrials).WithName("ListTrials").WithTags("Trials").WithSummary("a page of trials: sort by trial, value, epoch or state; filter by state");
        api.MapGet("/sweeps/{id}/trials/{trial}", GetTrial).WithName("GetTrial").WithTags("Trials").WithSummary("one trial: configuration, history, per-fold and per-AU metrics with baselines, decisions");
        api.MapGet("/sweeps/{id}/decisions", ListDecisions).WithName("ListDecisions").WithTags("Trials").WithSummary("the scheduler's decisions with their evidence, optionally for one trial");
        api.MapGet("/sweeps/{id}/points", ListPoints).WithName("ListPoints").WithTags("Trials").WithSummary("trials as points in parameter space for parallel coordinates (all, or the best and an even sample of the rest: ?max=N)");
        api.MapGet("/sweeps/{id}/events", StreamEvents).WithName("StreamEvents").WithTags("Events").WithSummary("server-sent events after a cursor (?after=N or Last-Event-ID); ends with an 'end' event");
        api.MapGet("/sweeps/{id}/checkpoint", DownloadCheckpoint).WithName("DownloadCheckpoint").WithTags("Checkpoints")
            .WithSummary("a trial's checkpoint (default: the best trial's best fold) as pt, safetensors or native; X-Checksum-Sha256 header");
        api.MapGet("/sweeps/{id}/importance", GetImportance).WithName("GetImportance").WithTags("Trials")
            .WithSummary("which hyperparameters mattered (PED-ANOVA): each one's share, over completed trials or every trial at ?epoch=N; ?quantile= (default 0.1), ?global=true");
        api.MapGet("/sweeps/{id}/export", Export).WithName("ExportSweep").WithTags("Trials")
            .WithSummary("every trial as a table for pandas (?format=csv|jsonl|parquet; ?curves=true: one row per trial and epoch): params_* columns, fold values, state, last decision");
        api.MapPost("/sweeps/{id}/cancel", Cancel).WithName("CancelSweep").WithTags("Sweeps").WithSummary("cancel a running sweep");
        api.MapPost("/sweeps/{id}/resume", Resume).WithName("ResumeSweep").WithTags("Sweeps").WithSummary("resume a cancelled or interrupted sweep");
        return app;
    }

    /// <summary>A sweep's state after a cancel or resume.</summary>
    public sealed record SweepStateBody(SweepState State);

    /// <summary>A sweep as lists show it.</summary>
    /// <param name="Error">Why the sweep's stored state cannot be read, when it cannot (it is listed with what the cluster's directory knows of it).</param>
    public sealed record SweepRow(string Id, string Name, SweepState State, int TotalTrials, int Started, int Folds, int Epochs, string Scheduler, string Sampler,
        string Metric, int? BestTrial, double? BestValue, string? Error = null);

    /// <summary>A sweep in full at a glance: its row, trial counts by state, the searched parameters (with simplex groups) for charts.</summary>
    public sealed record SweepDetail(SweepRow Sweep, IReadOnlyDictionary<string, int> TrialsByState, int Decisions, long LastEventSequence, string? Error,
        string Mode, IReadOnlyList<ParameterAxis> Parameters, IReadOnlyList<SimplexGroup> Simplexes);

    private static async Task<Ok<SweepRow[]>> ListSweeps(IGrainFactory grains, CancellationToken cancellationToken)
    {
        var listed = await grains.GetGrain<ISweepDirectoryGrain>(GrainKeys.Directory).ListAsync();

        // Each sweep on its own: one whose stored state is damaged is listed as such, never hiding the others.
        var rows = await Task.WhenAll(listed.Select(async l =>
        {
            try
            {
                return await grains.GetGrain<ISweepGrain>(l.SweepId).GetOverviewAsync(cancellationToken) is { } o ? Row(o) : null;
            }
            catch (InvalidDataException e)
            {
                return new SweepRow(l.SweepId, l.Name, SweepState.Failed, l.Trials, 0, l.Folds, l.Epochs, l.Scheduler, l.Sampler, "", null, null, e.Message);
            }
        }));
        return TypedResults.Ok(rows.OfType<SweepRow>().ToArray());
    }

    private static async Task<Results<Ok<SweepDetail>, ProblemHttpResult>> GetSweep(string id, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (await Load(id, grains, cancellationToken) is not { } o)
        {
            return NotFoundOrBad(id);
        }

        var byState = o.TrialsByState.OrderBy(p => p.Key).ToDictionary(p => JsonNamingPolicy.CamelCase.ConvertName(p.Key.ToString()), p => p.Value);
        return TypedResults.Ok(new SweepDetail(Row(o), byState, o.Decisions, o.LastEventSequence, o.Error, o.Mode, o.Parameters, o.Simplexes));
    }

    private static async Task<Results<Ok<TrialPage>, ProblemHttpResult>> ListTrials(string id, IGrainFactory grains, int? offset, int? limit, string? sort, string? order, string? state,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "min_value")] double? minValue, CancellationToken cancellationToken)
    {
        if (Paging(offset, limit) is { } bad)
        {
            return bad;
        }

        TrialState? filter = null;
        if (state is not null)
        {
            if (!Enum.TryParse<TrialState>(state, ignoreCase: true, out var s) || int.TryParse(state, out _))
            {
                return Bad($"state: '{state}' is not one of {string.Join(", ", Enum.GetNames<TrialState>().Select(n => n.ToLowerInvariant()))}");
            }

            filter = s;
        }

        if (order is not (null or "asc" or "desc"))
        {
            return Bad($"order: '{order}' is not asc or desc");
        }

        if (minValue is { } m && !double.IsFinite(m))
        {
            return Bad("min_value: must be a finite number");
        }

        if (await Load(id, grains, cancellationToken) is not { } overview)
        {
            return NotFoundOrBad(id);
        }

        var query = new TrialQuery { Offset = offset ?? 0, Limit = limit ?? 100, Descending = order == "desc", State = filter, MinValue = minValue };
        query = sort switch
        {
            null or "trial" => query,
            "value" => query with { Sort = TrialSort.Value },
            "epoch" => query with { Sort = TrialSort.Epoch },
            "state" => query with { Sort = TrialSort.State },
            _ when sort.StartsWith("param:", StringComparison.Ordinal) && overview.Parameters.Any(p => p.Name == sort["param:".Length..]) =>
                query with { Sort = TrialSort.Parameter, Parameter = sort["param:".Length..] },
            _ => null!,
        };
        if (query is null)
        {
            return Bad($"sort: '{sort}' is not one of trial, value, epoch, state or param:NAME for a searched parameter ({string.Join(", ", overview.Parameters.Select(p => p.Name))})");
        }

        return TypedResults.Ok(await grains.GetGrain<ISweepGrain>(id).GetTrialsAsync(query, cancellationToken));
    }

    private static async Task<Results<Ok<TrialDetail>, ProblemHttpResult>> GetTrial(string id, string trial, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (!int.TryParse(trial, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return Bad($"trial: '{trial}' is not a trial number");
        }

        if (await Load(id, grains, cancellationToken) is null)
        {
            return NotFoundOrBad(id);
        }

        return await grains.GetGrain<ISweepGrain>(id).GetTrialAsync(number, cancellationToken) is { } detail
            ? TypedResults.Ok(detail)
            : NotFound($"sweep '{id}' has no trial {number}");
    }

    private static async Task<Results<Ok<DecisionPage>, ProblemHttpResult>> ListDecisions(string id, IGrainFactory grains, int? trial, int? offset, int? limit, CancellationToken cancellationToken)
    {
        if (Paging(offset, limit) is { } bad)
        {
            return bad;
        }

        if (await Load(id, grains, cancellationToken) is null)
        {
            return NotFoundOrBad(id);
        }

        return TypedResults.Ok(await grains.GetGrain<ISweepGrain>(id).GetDecisionsAsync(trial, offset ?? 0, limit ?? 100, cancellationToken));
    }

    private static async Task<Results<Ok<ParameterPoints>, ProblemHttpResult>> ListPoints(string id, IGrainFactory grains, int? max, CancellationToken cancellationToken)
    {
        if (max is < 1 or > 20_000)
        {
            return Bad("max: must be between 1 and 20000");
        }

        if (await Load(id, grains, cancellationToken) is null)
        {
            return NotFoundOrBad(id);
        }

        return TypedResults.Ok(await grains.GetGrain<ISweepGrain>(id).GetPointsAsync(max ?? 2000, cancellationToken));
    }

    /// <summary>
    /// Server-sent events: each sweep event as <c>id: SEQ / event: KIND / data: JSON</c>, from the cursor on (a reconnecting
    /// client's <c>Last-Event-ID</c>, else <c>?after=</c>, else the start). When the sweep has ended and every event is
    /// sent, an <c>end</c> event carries its state and the stream closes. A comment line every 15 s keeps proxies open.
    /// </summary>
    private static async Task StreamEvents(HttpContext http, string id, IGrainFactory grains, long? after, CancellationToken cancellationToken)
    {
        var cursor = after ?? 0;
        if (http.Request.Headers["Last-Event-ID"].FirstOrDefault() is { } last && !long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out cursor))
        {
            await Bad($"Last-Event-ID: '{last}' is not an event id (a whole number >= 0: the id of the last event received)").ExecuteAsync(http);
            return;
        }

        if (GrainKeys.SweepIdProblem(id) is not null || cursor < 0 || await Load(id, grains, cancellationToken) is null)
        {
            await (cursor < 0 ? Bad("after: must be >= 0") : NotFoundOrBad(id)).ExecuteAsync(http);
            return;
        }

        var sweep = grains.GetGrain<ISweepGrain>(id);
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        try
        {
            // The sweep's own event stream: a batch as soon as its inputs are stored, an empty one every 15 s (a keep-alive
            // comment for proxies), and the end once the sweep has ended and every event is out.
            await foreach (var events in sweep.FollowAsync(cursor, SseKeepAlive, cancellationToken))
            {
                var text = new StringBuilder();
                foreach (var e in events)
                {
                    text.Append(CultureInfo.InvariantCulture, $"id: {e.Sequence}\nevent: {e.Kind}\ndata: {JsonSerializer.Serialize(e, EventJson)}\n\n");
                }

                await http.Response.WriteAsync(text.Length > 0 ? text.ToString() : ": keep-alive\n\n", cancellationToken);
                await http.Response.Body.FlushAsync(cancellationToken);
            }

            var status = (await sweep.GetOverviewAsync(cancellationToken))!;
            await http.Response.WriteAsync($"event: end\ndata: {JsonSerializer.Serialize(new { state = status.State }, EventJson)}\n\n", cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // the client went away
        }
    }

    /// <summary>Exports the chosen checkpoint on the server into a temporary file that is deleted once streamed.</summary>
    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> DownloadCheckpoint(HttpContext http, string id, IGrainFactory grains, ICheckpointStore store,
        ICheckpointExporter exporter, int? trial, int? fold, string? format,
        CancellationToken cancellationToken)
    {
        var kind = format is null ? exporter.Formats[0] : exporter.Formats.FirstOrDefault(f => f.Name == format);
        if (kind.Name is null)
        {
            return Bad($"format: '{format}' is not one of {string.Join(", ", exporter.Formats.Select(f => f.Name))}");
        }

        if (await Load(id, grains, cancellationToken) is not { } overview)
        {
            return NotFoundOrBad(id);
        }

        CheckpointChoice choice;
        try
        {
            var number = trial ?? overview.BestTrial ?? throw CheckpointChoice.NoneYet(id);
            var detail = await grains.GetGrain<ISweepGrain>(id).GetTrialAsync(number, cancellationToken);
            choice = CheckpointChoice.Pick(id, overview.Metric, number, detail?.Trial, $"trials: 0-{overview.Started - 1}", trial is null, fold);
        }
        catch (KeyNotFoundException e)
        {
            return NotFound(e.Message);
        }

        var data = await store.LoadAsync(choice.Key, cancellationToken);
        if (data is null)
        {
            return NotFound($"checkpoint {choice.Key} is not in the checkpoint store");
        }

        if (choice.Mismatch(data) is { } mismatch)
        {
            return Problem(mismatch, StatusCodes.Status422UnprocessableEntity);
        }

        var extension = kind.Extension;
        var name = $"{id}-t{choice.Trial.Trial:D3}-f{choice.Fold.Fold}-e{choice.Fold.Epoch:D4}.{extension}";
        var path = Path.Combine(Path.GetTempPath(), $"aunce-export-{Guid.NewGuid():N}.{extension}");
        string sha256;
        try
        {
            sha256 = await Task.Run(() => exporter.Export(data, $"checkpoint {choice.Key}", kind.Name, path, choice.Origin(id, overview.Metric)), cancellationToken);
        }
        catch (InvalidDataException e)
        {
            File.Delete(path);
            return Problem(e.Message, StatusCodes.Status422UnprocessableEntity);
        }
        catch
        {
            File.Delete(path);
            throw;
        }

        http.Response.Headers["X-Checksum-Sha256"] = sha256;
        http.Response.Headers["X-Aunce-Trial"] = choice.Trial.Trial.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers["X-Aunce-Fold"] = choice.Fold.Fold.ToString(CultureInfo.InvariantCulture);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        return TypedResults.File(stream, "application/octet-stream", name);
    }

    private static async Task<Results<Ok<ImportanceReport>, ProblemHttpResult>> GetImportance(string id, IGrainFactory grains, int? epoch, double? quantile,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "global")] bool? global, CancellationToken cancellationToken)
    {
        if (quantile is { } q && (q is <= 0 or > 1 || double.IsNaN(q)))
        {
            return Bad("quantile: must be in (0, 1]");
        }

        if (await Load(id, grains, cancellationToken) is not { } overview)
        {
            return NotFoundOrBad(id);
        }

        if (epoch is { } e && (e < 1 || e > overview.Epochs))
        {
            return Bad($"epoch: must be between 1 and the sweep's {overview.Epochs} epochs");
        }

        return await grains.GetGrain<ISweepGrain>(id).GetImportanceAsync(epoch, quantile ?? 0.1, global != true, cancellationToken) is { } report
            ? TypedResults.Ok(report)
            : NotFound($"sweep '{id}' has not started");
    }

    /// <summary>
    /// The sweep's trials as a table, read from the grain a page of <see cref="TrialQuery.MaxLimit"/> at a time (trials,
    /// then decisions), written to a temporary file that is deleted once streamed.
    /// </summary>
    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Export(string id, IGrainFactory grains, string? format, bool? curves,
        CancellationToken cancellationToken)
    {
        TableFormat kind;
        try
        {
            kind = SweepExport.ParseFormat(format ?? "csv");
        }
        catch (FormatException e)
        {
            return Bad(e.Message);
        }

        if (await Load(id, grains, cancellationToken) is not { } overview)
        {
            return NotFoundOrBad(id);
        }

        var sweep = grains.GetGrain<ISweepGrain>(id);
        var rows = new List<TrialRow>();
        for (var offset = 0; ; offset += TrialQuery.MaxLimit)
        {
            var page = await sweep.GetTrialsAsync(new TrialQuery { Offset = offset, Limit = TrialQuery.MaxLimit }, cancellationToken);
            rows.AddRange(page.Items);
            if (page.Items.Length < TrialQuery.MaxLimit || offset + page.Items.Length >= page.Total)
            {
                break;
            }
        }

        var last = new Dictionary<int, DecisionRecord>();
        for (var offset = 0; ; offset += TrialQuery.MaxLimit)
        {
            var page = await sweep.GetDecisionsAsync(null, offset, TrialQuery.MaxLimit, cancellationToken);
            foreach (var d in page.Items)
            {
                last[d.Trial] = d;
            }

            if (page.Items.Length < TrialQuery.MaxLimit || offset + page.Items.Length >= page.Total)
            {
                break;
            }
        }

        var trials = rows.Select(r => ExportTrial.From(r, last.GetValueOrDefault(r.Trial))).ToList();
        var path = Path.Combine(Path.GetTempPath(), $"aunce-table-{Guid.NewGuid():N}.{SweepExport.Extension(kind)}");
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await SweepExport.WriteAsync(file, kind, curves ?? false, id, trials, [.. overview.Parameters.Select(p => p.Name)], cancellationToken);
            }
        }
        catch
        {
            File.Delete(path);
            throw;
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        return TypedResults.File(stream, SweepExport.ContentType(kind), $"{id}{(curves == true ? "-curves" : "")}.{SweepExport.Extension(kind)}");
    }

    private static async Task<Results<Ok<SweepStateBody>, ProblemHttpResult>> Cancel(string id, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (await Load(id, grains, cancellationToken) is null)
        {
            return NotFoundOrBad(id);
        }

        await grains.GetGrain<ISweepGrain>(id).CancelAsync();
        return TypedResults.Ok(new SweepStateBody((await grains.GetGrain<ISweepGrain>(id).GetOverviewAsync())!.State));
    }

    private static async Task<Results<Ok<SweepStateBody>, ProblemHttpResult>> Resume(string id, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (await Load(id, grains, cancellationToken) is null)
        {
            return NotFoundOrBad(id);
        }

        return TypedResults.Ok(new SweepStateBody((await grains.GetGrain<ISweepGrain>(id).ResumeAsync()).State));
    }

    /// <summary>The sweep's overview, or null when the id is malformed or no sweep was started under it (O(1) in sweeps and trials to send).</summary>
    private static async Task<SweepOverview?> Load(string id, IGrainFactory grains, CancellationToken cancellationToken = default) =>
        GrainKeys.SweepIdProblem(id) is not null ? null : await grains.GetGrain<ISweepGrain>(id).GetOverviewAsync(cancellationToken);

    private static SweepRow Row(SweepOverview o) =>
        new(o.SweepId, o.Name, o.State, o.TotalTrials, o.Started, o.Folds, o.Epochs, o.Scheduler, o.Sampler, o.Metric, o.BestTrial, o.BestValue);

    private static ProblemHttpResult? Paging(int? offset, int? limit) => TrialQuery.PagingProblem(offset, limit) is { } problem ? Bad(problem) : null;

    private static ProblemHttpResult NotFoundOrBad(string id) => GrainKeys.SweepIdProblem(id) is { } problem
        ? Bad(problem)
        : NotFound($"no sweep '{id}' in this cluster");

    private static ProblemHttpResult Bad(string message) => Problem(message, StatusCodes.Status400BadRequest);

    private static ProblemHttpResult NotFound(string message) => Problem(message, StatusCodes.Status404NotFound);

    /// <summary>An RFC 9457 problem whose detail is <paramref name="message"/>, also as <c>error</c> (what clients of the earlier bodies read).</summary>
    private static ProblemHttpResult Problem(string message, int status) =>
        TypedResults.Problem(detail: message, statusCode: status, extensions: new Dictionary<string, object?> { ["error"] = message });
}
