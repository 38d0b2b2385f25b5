using System.Globalization;
using System.Text;
using System.Text.Json;
using AunceSearch.Contracts;
using Parquet;
using Parquet.Schema;

namespace AunceSearch.Api;

/// <summary>The file formats a sweep's results are exported in.</summary>
public enum TableFormat
{
    Csv,
    Jsonl,
    Parquet,
}

/// <summary>One trial as an export row: what <c>aunce sweep export</c> and <c>GET /api/sweeps/{id}/export</c> write.</summary>
public sealed record ExportTrial(
    int Trial,
    TrialState State,
    int LastEpoch,
    int TargetEpoch,
    double? Value,
    double? MeanF1,
    double? MeanAccuracy,
    IReadOnlyDictionary<string, string> Hyperparameters,
    IReadOnlyList<double> FoldValues,
    IReadOnlyList<double> History,
    DecisionRecord? LastDecision,
    string? Error)
{
    /// <summary>A trial from a sweep's full status (the CLI's record); <paramref name="metric"/>: the sweep's (f1 or accuracy).</summary>
    public static ExportTrial From(TrialSummary t, DecisionRecord? last, string metric) =>
        new(t.Trial, t.State, t.LastEpoch, t.TargetEpoch, t.LastValue, t.LastMeanF1, t.LastMeanAccuracy, t.Hyperparameters,
            [.. t.LastFolds.Select(f => metric == "accuracy" ? f.MeanAccuracy : f.MeanF1)], t.History, last, t.Error);

    /// <summary>A trial from a page of the trial table (the HTTP API, paged).</summary>
    public static ExportTrial From(TrialRow r, DecisionRecord? last) =>
        new(r.Trial, r.State, r.LastEpoch, r.TargetEpoch, r.Value, r.MeanF1, r.MeanAccuracy, r.Hyperparameters, r.FoldValues, r.History, last, r.Error);
}

/// <summary>
/// A sweep's trials as a table pandas reads directly (<c>pd.read_csv</c>, <c>pd.read_json(lines=True)</c>,
/// <c>pd.read_parquet</c>): one row per trial — or per trial and epoch with <c>curves</c> — with the hyperparameters as
/// <c>params_NAME</c> columns (numbers where every value is one, as Optuna's <c>trials_dataframe</c> names them), the
/// fold values of the last epoch, the state and the last scheduler decision with its reason. Streams: memory is one
/// Parquet row group (<see cref="RowGroupSize"/> rows), not the sweep.
/// </summary>
public static class SweepExport
{
    /// <summary>Rows per Parquet row group.</summary>
    public const int RowGroupSize = 65_536;

    /// <summary>The format named by <paramref name="text"/> (csv, jsonl, parquet), or an error naming the choices.</summary>
    public static TableFormat ParseFormat(string text) => text.ToLowerInvariant() switch
    {
        "csv" => TableFormat.Csv,
        "jsonl" or "ndjson" => TableFormat.Jsonl,
        "parquet" => TableFormat.Parquet,
        _ => throw new FormatException($"format: '{text}' is not one of csv, jsonl, parquet"),
    };

    /// <summary>The format a file name's extension implies, or null.</summary>
    public static TableFormat? FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => TableFormat.Csv,
        ".jsonl" or ".ndjson" => TableFormat.Jsonl,
        ".parquet" => TableFormat.Parquet,
        _ => null,
    };

    public static string ContentType(TableFormat format) => format switch
    {
        TableFormat.Csv => "text/csv; charset=utf-8",
        TableFormat.Jsonl => "application/x-ndjson",
        _ => "application/vnd.apache.parquet",
    };

    public static string Extension(TableFormat format) => format switch
    {
        TableFormat.Csv => "csv",
        TableFormat.Jsonl => "jsonl",
        _ => "parquet",
    };

    /// <summary>Writes the table; returns the number of rows. <paramref name="parameterOrder"/>: the searched parameters first, in the space's order.</summary>
    public static async Task<long> WriteAsync(Stream output, TableFormat format, bool curves, string sweepId, IReadOnlyList<ExportTrial> trials,
        IReadOnlyList<string> parameterOrder, CancellationToken cancellationToken = default)
    {
        var columns = Columns(sweepId, trials, parameterOrder, curves);
        var rows = curves
            ? trials.SelectMany(t => Enumerable.Range(1, t.History.Count).Select(e => new Row(t, e)))
            : trials.Select(t => new Row(t, 0));
        return format switch
        {
            TableFormat.Csv => await WriteCsvAsync(output, columns, rows, cancellationToken),
            TableFormat.Jsonl => await WriteJsonlAsync(output, columns, rows, cancellationToken),
            _ => await WriteParquetAsync(output, columns, rows, cancellationToken),
        };
    }

    /// <summary>A row: the trial and, with curves, the epoch (1-based; 0 = the trial's row).</summary>
    private readonly record struct Row(ExportTrial Trial, int Epoch);

    private enum Kind
    {
        Int,
        Double,
        Text,
    }

    private sealed record Column(string Name, Kind Kind, Func<Row, object?> Get);

    private static List<Column> Columns(string sweepId, IReadOnlyList<ExportTrial> trials, IReadOnlyList<string> parameterOrder, bool curves)
    {
        var columns = new List<Column>
        {
            new("sweep_id", Kind.Text, _ => sweepId),
            new("trial", Kind.Int, r => r.Trial.Trial),
        };
        if (curves)
        {
            columns.Add(new("epoch", Kind.Int, r => r.Epoch));
            columns.Add(new("value", Kind.Double, r => r.Trial.History[r.Epoch - 1]));
            columns.Add(new("state", Kind.Text, r => State(r.Trial.State)));
        }
        else
        {
            columns.Add(new("state", Kind.Text, r => State(r.Trial.State)));
            columns.Add(new("last_epoch", Kind.Int, r => r.Trial.LastEpoch));
            columns.Add(new("target_epoch", Kind.Int, r => r.Trial.TargetEpoch));
            columns.Add(new("value", Kind.Double, r => r.Trial.Value));
            columns.Add(new("mean_f1", Kind.Double, r => r.Trial.MeanF1));
            columns.Add(new("mean_accuracy", Kind.Double, r => r.Trial.MeanAccuracy));
        }

        var names = parameterOrder.Where(p => trials.Any(t => t.Hyperparameters.ContainsKey(p))).ToList();
        names.AddRange(trials.SelectMany(t => t.Hyperparameters.Keys).Distinct(StringComparer.Ordinal).Except(names, StringComparer.Ordinal).Order(StringComparer.Ordinal));
        foreach (var name in names)
        {
            var numeric = trials.All(t => !t.Hyperparameters.TryGetValue(name, out var v) || Number(v) is not null);
            columns.Add(numeric
                ? new($"params_{name}", Kind.Double, r => r.Trial.Hyperparameters.TryGetValue(name, out var v) ? Number(v) : null)
                : new($"params_{name}", Kind.Text, r => r.Trial.Hyperparameters.GetValueOrDefault(name)));
        }

        if (!curves)
        {
            var folds = trials.Count == 0 ? 0 : trials.Max(t => t.FoldValues.Count);
            for (var f = 0; f < folds; f++)
            {
                var fold = f;
                columns.Add(new($"fold_{fold}_value", Kind.Double, r => fold < r.Trial.FoldValues.Count ? r.Trial.FoldValues[fold] : null));
            }

            columns.Add(new("decision", Kind.Text, r => r.Trial.LastDecision?.Kind));
            columns.Add(new("decision_epoch", Kind.Int, r => r.Trial.LastDecision?.Epoch));
            columns.Add(new("decision_reason", Kind.Text, r => r.Trial.LastDecision?.Reason));
            columns.Add(new("error", Kind.Text, r => r.Trial.Error));
        }

        return columns;
    }

    private static string State(TrialState s) => s.ToString().ToLowerInvariant();

    private static double? Number(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static async Task<long> WriteCsvAsync(Stream output, List<Column> columns, IEnumerable<Row> rows, CancellationToken cancellationToken)
    {
        await using var w = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        await w.WriteLineAsync(string.Join(',', columns.Select(c => Quote(c.Name))));
        var line = new StringBuilder();
        long n = 0;
        foreach (var row in rows)
        {
            line.Clear();
            for (var i = 0; i < columns.Count; i++)
            {
                if (i > 0)
                {
                    line.Append(',');
                }

                switch (columns[i].Get(row))
                {
                    case null:
                        break;
                    case double d:
                        line.Append(Format(d));
                        break;
                    case int k:
                        line.Append(k.ToString(CultureInfo.InvariantCulture));
                        break;
                    case var o:
                        line.Append(Quote(Convert.ToString(o, CultureInfo.InvariantCulture)!));
                        break;
                }
            }

            await w.WriteLineAsync(line, cancellationToken);
            n++;
        }

        return n;
    }

    /// <summary>RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.</summary>
    private static string Quote(string s) => s.AsSpan().IndexOfAny(",\"\r\n") < 0 ? s : $"\"{s.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    /// <summary>Round-trip doubles; NaN and infinities as pandas reads them.</summary>
    private static string Format(double d) => double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "inf" : double.IsNegativeInfinity(d) ? "-inf" : d.ToString("R", CultureInfo.InvariantCulture);

    private static async Task<long> WriteJsonlAsync(Stream output, List<Column> columns, IEnumerable<Row> rows, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        await using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        var names = columns.Select(c => JsonEncodedText.Encode(c.Name)).ToArray();
        long n = 0;
        foreach (var row in rows)
        {
            json.WriteStartObject();
            for (var i = 0; i < columns.Count; i++)
            {
                switch (columns[i].Get(row))
                {
                    case null:
                        json.WriteNull(names[i]);
                        break;
                    case double d when !double.IsFinite(d):
                        json.WriteNull(names[i]);   // JSON has no NaN or infinity
                        break;
                    case double d:
                        json.WriteNumber(names[i], d);
                        break;
                    case int k:
                        json.WriteNumber(names[i], k);
                        break;
                    case var o:
                        json.WriteString(names[i], Convert.ToString(o, CultureInfo.InvariantCulture));
                        break;
                }
            }

            json.WriteEndObject();
            await json.FlushAsync(cancellationToken);
            buffer.WriteByte((byte)'\n');
            json.Reset(buffer);
            n++;
            if (buffer.Length >= 1 << 16)
            {
                buffer.Position = 0;
                await buffer.CopyToAsync(output, cancellationToken);
                buffer.SetLength(0);
            }
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(output, cancellationToken);
        return n;
    }

    private static async Task<long> WriteParquetAsync(Stream output, List<Column> columns, IEnumerable<Row> rows, CancellationToken cancellationToken)
    {
        var fields = columns.Select(c => c.Kind switch
        {
            Kind.Int => (DataField)new DataField<int?>(c.Name),
            Kind.Double => new DataField<double?>(c.Name),
            _ => new DataField<string>(c.Name, true),
        }).ToArray();
        var schema = new ParquetSchema(fields);
        await using var writer = await ParquetWriter.CreateAsync(schema, output, new ParquetOptions { CompressionMethod = CompressionMethod.Snappy }, cancellationToken: cancellationToken);
        long n = 0;
        foreach (var chunk in rows.Chunk(RowGroupSize))
        {
            using var group = writer.CreateRowGroup();
            for (var i = 0; i < columns.Count; i++)
            {
                var get = columns[i].Get;
                switch (columns[i].Kind)
                {
                    case Kind.Int:
                        await group.WriteAsync<int>(fields[i], chunk.Select(r => (int?)get(r)).ToArray(), cancellationToken: cancellationToken);
                        break;
                    case Kind.Double:
                        await group.WriteAsync<double>(fields[i], chunk.Select(r => (double?)get(r)).ToArray(), cancellationToken: cancellationToken);
                        break;
                    default:
                        await group.WriteAsync(fields[i], chunk.Select(r => get(r) is { } o ? Convert.ToString(o, CultureInfo.InvariantCulture) : null).ToArray());
                        break;
                }
            }

            n += chunk.Length;
        }

        return n;
    }
}
