using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AunceSearch.Contracts;
using AunceSearch.Search.Schedulers;

namespace AunceSearch.Coordination;

/// <summary>
/// The coordinator state's stored form. Most of a large sweep's bytes are its trials' fold details (per-AU metrics and
/// baselines of every fold, per-fold learning curves), which no decision reads and a view reads a page at a time. So a
/// snapshot is in parts: the core (the state without trials or scheduler), the scheduler's state, the trials' summaries
/// in blocks of <see cref="BlockTrials"/> (these three parsed in parallel), and each trial's details as its own small JSON
/// document, kept as bytes when restored (<see cref="CoordinatorState.UnparsedDetails"/>), parsed per trial when needed,
/// and copied unparsed into a later snapshot. Layout (integers little-endian):
/// <c>AUNCE-SNAPSHOT/2\n</c>; core length (int64), core (the state without trials and scheduler); scheduler state length
/// (int64), the scheduler's state (its own JSON, parsed beside the trials); block count (int32), then per block
/// its length (int32) and a JSON array of trials without details; detail count (int32), then per trial with details its
/// number (int32), length (int32) and details. A snapshot starting with <c>{</c> is the earlier whole-JSON form.
/// </summary>
public static class CoordinatorSnapshot
{
    private static ReadOnlySpan<byte> Magic => "AUNCE-SNAPSHOT/2\n"u8;

    /// <summary>Trials per stored block: blocks are parsed in parallel.</summary>
    internal const int BlockTrials = 8192;

    /// <summary>
    /// The journal codec's options, without <see cref="CoordinatorState.Trials"/> (stored in blocks),
    /// <see cref="CoordinatorState.SchedulerState"/> (its own part), and <see cref="TrialSummary.LastFolds"/> and
    /// <see cref="TrialSummary.FoldHistory"/> (stored per trial).
    /// </summary>
    private static readonly JsonSerializerOptions CoreOptions = new(SweepJournalCodec.Options)
    {
        Converters = { new ConfigurationConverter() },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver
        {
            Modifiers =
            {
                static info =>
                {
                    string[] stored = info.Type == typeof(TrialSummary) ? [nameof(TrialSummary.LastFolds), nameof(TrialSummary.FoldHistory)]
                        : info.Type == typeof(CoordinatorState) ? [nameof(CoordinatorState.Trials), nameof(CoordinatorState.SchedulerState)]
                        : [];
                    foreach (var p in info.Properties.Where(p => stored.Contains(p.Name)).ToList())
                    {
                        info.Properties.Remove(p);
                    }
                },
            },
        },
    };

    /// <summary>The state's bytes. Reads <paramref name="state"/> only: safe off the owner's thread on a captured copy.</summary>
    public static byte[] Encode(CoordinatorState state)
    {
        var core = JsonSerializer.SerializeToUtf8Bytes(state, CoreOptions);
        var scheduler = System.Text.Encoding.UTF8.GetBytes(state.SchedulerState);
        var ordered = state.Trials.OrderBy(p => p.Key).Select(p => p.Value).ToArray();
        var blocks = ordered.Chunk(BlockTrials).Select(b => JsonSerializer.SerializeToUtf8Bytes(b, CoreOptions)).ToList();
        var details = new List<(int Trial, ReadOnlyMemory<byte> Bytes)>(state.Trials.Count);
        long length = Magic.Length + 8 + core.Length + 8 + scheduler.Length + 4 + blocks.Sum(b => 4L + b.Length) + 4;
        foreach (var trial in ordered)
        {
            var number = trial.Trial;
            if (!state.UnparsedDetails.TryGetValue(number, out var bytes) && (trial.LastFolds.Length > 0 || trial.FoldHistory.Length > 0))
            {
                bytes = JsonSerializer.SerializeToUtf8Bytes(new TrialFoldDetails(trial.LastFolds, trial.FoldHistory), SweepJournalCodec.Options);
            }

            if (bytes.IsEmpty)
            {
                continue;
            }

            details.Add((number, bytes));
            length += 8 + bytes.Length;
        }

        var data = GC.AllocateUninitializedArray<byte>(checked((int)length));
        var at = data.AsSpan();
        Magic.CopyTo(at);
        at = at[Magic.Length..];
        BinaryPrimitives.WriteInt64LittleEndian(at, core.Length);
        core.CopyTo(at[8..]);
        at = at[(8 + core.Length)..];
        BinaryPrimitives.WriteInt64LittleEndian(at, scheduler.Length);
        scheduler.CopyTo(at[8..]);
        at = at[(8 + scheduler.Length)..];
        BinaryPrimitives.WriteInt32LittleEndian(at, blocks.Count);
        at = at[4..];
        foreach (var block in blocks)
        {
            BinaryPrimitives.WriteInt32LittleEndian(at, block.Length);
            block.CopyTo(at[4..]);
            at = at[(4 + block.Length)..];
        }

        BinaryPrimitives.WriteInt32LittleEndian(at, details.Count);
        at = at[4..];
        foreach (var (trial, bytes) in details)
        {
            BinaryPrimitives.WriteInt32LittleEndian(at, trial);
            BinaryPrimitives.WriteInt32LittleEndian(at[4..], bytes.Length);
            bytes.Span.CopyTo(at[8..]);
            at = at[(8 + bytes.Length)..];
        }

        return data;
    }

    /// <summary>
    /// The state in <paramref name="data"/> (either form), and the scheduler's state when it was stored as its own part. Damage to the layout or the core is an
    /// <see cref="InvalidDataException"/> naming the sweep; damage to one trial's details is one when that trial is read.
    /// </summary>
    public static (CoordinatorState State, SchedulerState? Scheduler) Decode(byte[] data, string sweepId)
    {
        if (!data.AsSpan().StartsWith(Magic))
        {
            return (Parse<CoordinatorState>(data, SweepJournalCodec.Options, sweepId, "snapshot"), null);   // its scheduler state is in the text
        }

        var at = Magic.Length;
        var coreLength = Read64(data, ref at, sweepId, "the core's length");
        if (coreLength < 0 || coreLength > data.Length - at)
        {
            throw Damaged(sweepId, $"its core is {coreLength} bytes, {data.Length - at} remain");
        }

        var core = data.AsMemory(at, (int)coreLength);
        at += (int)coreLength;
        var schedulerLength = Read64(data, ref at, sweepId, "the scheduler state's length");
        if (schedulerLength < 0 || schedulerLength > data.Length - at)
        {
            throw Damaged(sweepId, $"its scheduler state is {schedulerLength} bytes, {data.Length - at} remain");
        }

        var scheduler = data.AsMemory(at, (int)schedulerLength);
        at += (int)schedulerLength;
        var blockCount = Read32(data, ref at, sweepId, "the block count");
        var blocks = new List<ReadOnlyMemory<byte>>();
        for (var b = 0; b < blockCount; b++)
        {
            var length = Read32(data, ref at, sweepId, $"block {b}'s length");
            if (length < 0 || length > data.Length - at)
            {
                throw Damaged(sweepId, $"trial block {b} is {length} bytes, {data.Length - at} remain");
            }

            blocks.Add(data.AsMemory(at, length));
            at += length;
        }

        // The core, the scheduler's state and the trial blocks at once, on every core: a 100,000-trial sweep's activation
        // waits on this (the scheduler's state first: it is the largest single part).
        CoordinatorState? state = null;
        SchedulerState? parsedScheduler = null;
        var trials = new TrialSummary[blockCount][];
        try
        {
            Parallel.For(-2, blockCount, ParsePart);
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is InvalidDataException) is { } damage)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(damage);   // the damage itself, as every other part reports it
        }

        void ParsePart(int i)
        {
            if (i == -2)
            {
                parsedScheduler = scheduler.IsEmpty ? null : ParseScheduler(scheduler, sweepId);
            }
            else if (i == -1)
            {
                state = Parse<CoordinatorState>(core, CoreOptions, sweepId, "snapshot core");
            }
            else
            {
                trials[i] = Parse<TrialSummary[]>(blocks[i], CoreOptions, sweepId, $"snapshot trial block {i}");
            }
        }

        state!.Trials = new Dictionary<int, TrialSummary>(trials.Sum(t => t.Length));
        foreach (var trial in trials.SelectMany(t => t))
        {
            if (!state.Trials.TryAdd(trial.Trial, trial))
            {
                throw Damaged(sweepId, $"trial {trial.Trial} is stored twice");
            }
        }

        var count = Read32(data, ref at, sweepId, "the detail count");
        for (var k = 0; k < count; k++)
        {
            var trial = Read32(data, ref at, sweepId, $"detail {k}'s trial");
            var length = Read32(data, ref at, sweepId, $"detail {k}'s length");
            if (length < 0 || length > data.Length - at)
            {
                throw Damaged(sweepId, $"detail {k} (trial {trial}) is {length} bytes, {data.Length - at} remain");
            }

            if (!state.Trials.ContainsKey(trial) || length == 0 || !state.UnparsedDetails.TryAdd(trial, data.AsMemory(at, length)))
            {
                throw Damaged(sweepId, $"detail {k} is for trial {trial}, " + (!state.Trials.ContainsKey(trial) ? "which the snapshot does not hold" : length == 0 ? "and empty" : "which has one already"));
            }

            at += length;
        }

        return at == data.Length ? (state, parsedScheduler) : throw Damaged(sweepId, $"{data.Length - at} bytes follow its last detail");
    }

    /// <summary>One trial's stored details; damage is an <see cref="InvalidDataException"/> naming the sweep and the trial.</summary>
    public static TrialFoldDetails ParseDetails(ReadOnlyMemory<byte> bytes, string sweepId, int trial)
    {
        var where = $"sweep {sweepId}: trial {trial}'s stored fold details";
        try
        {
            return JsonSerializer.Deserialize<TrialFoldDetails>(bytes.Span, SweepJournalCodec.Options) ?? throw new InvalidDataException($"{where} are empty");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new InvalidDataException($"{where} are damaged ({e.Message})", e);
        }
    }

    private static SchedulerState ParseScheduler(ReadOnlyMemory<byte> json, string sweepId)
    {
        try
        {
            return SchedulerStateJson.Deserialize(json.Span);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or FormatException)
        {
            throw new InvalidDataException($"sweep {sweepId}: its scheduler state is damaged ({e.Message})", e);
        }
    }

    private static T Parse<T>(ReadOnlyMemory<byte> json, JsonSerializerOptions options, string sweepId, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json.Span, options) ?? throw new InvalidDataException($"sweep {sweepId}: its {what} is empty");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new InvalidDataException($"sweep {sweepId}: its {what} is damaged ({e.Message})", e);
        }
    }

    private static long Read64(byte[] data, ref int at, string sweepId, string what)
    {
        if (data.Length - at < 8)
        {
            throw Damaged(sweepId, $"it ends before {what}");
        }

        at += 8;
        return BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(at - 8));
    }

    private static int Read32(byte[] data, ref int at, string sweepId, string what)
    {
        if (data.Length - at < 4)
        {
            throw Damaged(sweepId, $"it ends before {what}");
        }

        at += 4;
        return BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(at - 4));
    }

    private static InvalidDataException Damaged(string sweepId, string why) => new($"sweep {sweepId}: its snapshot is damaged: {why}");

    /// <summary>
    /// A trial's configuration (name → value) as the JSON object it always was, read with each name shared across trials
    /// (a sweep has a handful of parameter names and up to 100,000 trials: otherwise each trial allocates its own copy of
    /// every name) and the dictionary sized once. Half of a restored trial's objects were these.
    /// </summary>
    private sealed class ConfigurationConverter : System.Text.Json.Serialization.JsonConverter<Dictionary<string, string>>
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);

        public override Dictionary<string, string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException($"expected an object of names and values, got {reader.TokenType}");
            }

            var names = _names.GetAlternateLookup<ReadOnlySpan<char>>();
            var config = new Dictionary<string, string>(Math.Max(4, _names.Count), StringComparer.Ordinal);
            Span<char> buffer = stackalloc char[128];
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name;
                if (!reader.ValueIsEscaped && !reader.HasValueSequence && reader.ValueSpan.Length <= buffer.Length)
                {
                    var chars = buffer[..System.Text.Encoding.UTF8.GetChars(reader.ValueSpan, buffer)];
                    if (!names.TryGetValue(chars, out name!))
                    {
                        name = _names.GetOrAdd(new string(chars), static n => n);
                    }
                }
                else
                {
                    name = reader.GetString()!;
                }

                reader.Read();
                config[name] = reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException($"the value of '{name}' is not a string");
            }

            return config;
        }

        public override void Write(Utf8JsonWriter writer, Dictionary<string, string> value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            foreach (var (name, v) in value)
            {
                writer.WriteString(name, v);
            }

            writer.WriteEndObject();
        }
    }
}
