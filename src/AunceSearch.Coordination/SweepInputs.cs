using System.Text.Json;
using System.Text.Json.Serialization;
using AunceSearch.Contracts;

namespace AunceSearch.Coordination;

/// <summary>
/// What happens to a sweep, in the order the coordinator saw it: the entries of its append-only journal. The coordinator's
/// state is a fold over these (from a snapshot), so replaying a journal gives the same state and the same later decisions.
/// Version 1; a new kind is a new derived record with its own discriminator, never a changed one.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "$kind")]
[JsonDerivedType(typeof(SweepStarted), "started")]
[JsonDerivedType(typeof(FoldEpochDelivered), "fold-epoch")]
[JsonDerivedType(typeof(TrialEpochReported), "trial-epoch")]
[JsonDerivedType(typeof(PartialEpochReported), "partial-epoch")]
[JsonDerivedType(typeof(TrialLegEnded), "trial-ended")]
[JsonDerivedType(typeof(SweepCancelled), "cancelled")]
[JsonDerivedType(typeof(SweepResumed), "resumed")]
[JsonDerivedType(typeof(SweepRecovered), "recovered")]
public abstract record SweepInput;

/// <summary>The sweep was submitted: its typed definition (the client parsed and resolved the spec).</summary>
public sealed record SweepStarted(SweepDefinition Definition) : SweepInput;

/// <summary>One fold finished an epoch (its checkpoint is stored).</summary>
public sealed record FoldEpochDelivered(FoldEpochReport Report) : SweepInput;

/// <summary>Every fold of a trial still running finished an epoch: the fold mean.</summary>
public sealed record TrialEpochReported(TrialEpochReport Report) : SweepInput;

/// <summary>Some folds of a trial finished an epoch (pruning on partial folds).</summary>
public sealed record PartialEpochReported(TrialEpochReport Report, int TotalFolds) : SweepInput;

/// <summary>
/// All folds of one of a trial's legs ended. <see cref="LegEpochs"/> names the leg (the epoch it trained to): the end of a
/// leg the sweep has already moved past (a promotion applied before the paused leg's end arrived) changes nothing. Null in
/// journals written before it was recorded: such an end is taken as the current leg's.
/// </summary>
public sealed record TrialLegEnded(int Trial, TrialState State, string? Error, int? LegEpochs = null) : SweepInput;

/// <summary>A user cancelled the sweep.</summary>
public sealed record SweepCancelled : SweepInput;

/// <summary>A user resumed the sweep (a cancelled one runs again).</summary>
public sealed record SweepResumed : SweepInput;

/// <summary>The sweep's host came back after a failure with no trial running: start the next ones (or end the sweep).</summary>
public sealed record SweepRecovered : SweepInput;

/// <summary>What the host must do after an input, once the input is stored.</summary>
public abstract record CoordinatorCommand;

/// <summary>Start (or restart) a trial's leg.</summary>
public sealed record StartTrial(TrialAssignment Assignment) : CoordinatorCommand;

/// <summary>
/// Delete a trial's checkpoints (every fold) of epochs outside [<paramref name="KeepFromEpoch"/>, <paramref name="KeepThroughEpoch"/>]
/// (KeepFromEpoch int.MaxValue: all of them).
/// </summary>
public sealed record PruneCheckpoints(int Trial, int KeepFromEpoch, int KeepThroughEpoch = int.MaxValue) : CoordinatorCommand;

/// <summary>Stop a running trial's folds.</summary>
public sealed record StopTrial(int Trial, string Reason) : CoordinatorCommand;

/// <summary>The result of one input: the answer to the reporting trial, commands for the host, and whether the state changed (the input must be journaled).</summary>
public sealed record CoordinatorOutcome(TrialDirective Directive, IReadOnlyList<CoordinatorCommand> Commands, bool Changed)
{
    public static readonly CoordinatorOutcome Unchanged = new(TrialDirective.Continue, [], false);
}

/// <summary>The journal's encoding: JSON, one entry per input, doubles round-tripped exactly (NaN and infinities by name).</summary>
public static class SweepJournalCodec
{
    internal static readonly JsonSerializerOptions Options = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Encode(SweepInput input) => JsonSerializer.Serialize(input, Options);

    /// <summary>Decodes one journal entry; a damaged one is an <see cref="InvalidDataException"/> naming <paramref name="where"/>.</summary>
    public static SweepInput Decode(string entry, string where)
    {
        try
        {
            return JsonSerializer.Deserialize<SweepInput>(entry, Options) ?? throw new InvalidDataException($"{where}: an empty journal entry");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new InvalidDataException($"{where}: not a sweep journal entry ({e.Message})", e);
        }
    }
}
