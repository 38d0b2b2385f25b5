using System.Text.Json;
using AunceSearch.Bench.Synthetic;
using AunceSearch.Contracts;

namespace AunceSearch.Coordination.Tests;

/// <summary>
/// The coordinator's stored form (<see cref="CoordinatorSnapshot"/>): a restored sweep answers with every trial's fold
/// details though it parsed none of them up front, a snapshot of it copies them unparsed, an earlier version's whole-JSON
/// snapshot still restores, and damage is an error naming the sweep (and the trial, for one trial's details).
/// </summary>
public sealed class SnapshotTests
{
    private const string Id = "snap";

    private static string Key(int trial, int fold, int epoch) => $"{Id}/t{trial:D3}/f{fold}/e{epoch:D4}.ckpt";

    private static byte[] Synthetic(int trials) => SyntheticSweep.Snapshot(ViewTests.Demo(), Id, trials, Key);

    /// <summary>Every trial as a client sees it (details included), as JSON: what must survive a round trip.</summary>
    private static string Trials(SweepCoordinator c) => JsonSerializer.Serialize(c.Status(0).Trials);

    [Fact]
    public void Restored_details_stay_unparsed_until_read_and_a_snapshot_copies_them_byte_for_byte()
    {
        var bytes = Synthetic(300);
        var restored = new SweepCoordinator(Id, Key, bytes);
        var captured = restored.CaptureState();
        Assert.Equal(300, captured.UnparsedDetails.Count);
        Assert.All(captured.Trials.Values, t => Assert.Empty(t.LastFolds));   // the summaries hold none until asked

        // Read through every view that shows them: the trial's own page, a page of trials, the full status.
        var detail = restored.Trial(7)!.Trial;
        Assert.Equal(3, detail.LastFolds.Length);
        Assert.Equal(12, detail.LastFolds[0].F1PerAu.Length);
        Assert.Equal(detail.LastEpoch, detail.FoldHistory[0].Length);
        var page = restored.Trials(new TrialQuery { Sort = TrialSort.Trial, Limit = 10 });
        Assert.All(page.Items, row => Assert.Equal(3, row.FoldValues.Length));
        Assert.All(restored.Status(0).Trials, t => Assert.Equal(3, t.LastFolds.Length));

        // Reading parsed nothing into the state: the next snapshot copies all 300 as they were stored, and restoring it
        // shows the same trials and snapshots to the same bytes again.
        Assert.Equal(300, restored.CaptureState().UnparsedDetails.Count);
        var next = restored.Snapshot();
        foreach (var (trial, stored) in captured.UnparsedDetails)
        {
            Assert.True(next.AsSpan().IndexOf(stored.Span) >= 0, $"trial {trial}'s details were not copied as stored");
        }

        var again = new SweepCoordinator(Id, Key, next);
        Assert.Equal(Trials(restored), Trials(again));
        Assert.Equal(next, again.Snapshot());
    }

    [Fact]
    public void A_snapshot_written_whole_as_json_by_an_earlier_version_restores_the_same_sweep()
    {
        var current = new SweepCoordinator(Id, Key, Synthetic(40));
        var state = current.CaptureState();
        var full = state.Copy();
        full.Trials = current.Status(0).Trials.ToDictionary(t => t.Trial);   // details parsed into the summaries, as that version held them
        full.UnparsedDetails = [];
        var legacy = JsonSerializer.SerializeToUtf8Bytes(full, SweepJournalCodec.Options);
        Assert.Equal((byte)'{', legacy[0]);

        var restored = new SweepCoordinator(Id, Key, legacy);
        Assert.Equal(Trials(current), Trials(restored));
        Assert.Equal(current.Snapshot(), restored.Snapshot());   // and its next snapshot is in the current form
    }

    [Fact]
    public void A_snapshot_whose_scheduler_state_is_the_old_bag_restores_into_the_schedulers_own_state()
    {
        // Before each scheduler had a state type of its own, the scheduler's part was one bag of every scheduler's fields, no $kind.
        var current = new SweepCoordinator(Id, Key, Synthetic(40));
        var state = current.CaptureState();
        var bag = System.Text.Json.Nodes.JsonNode.Parse(state.SchedulerState)!.AsObject();
        Assert.Equal("asha-promotion", bag["$kind"]!.GetValue<string>());
        bag.Remove("$kind");
        bag["Bracket"] = new System.Text.Json.Nodes.JsonObject();   // another scheduler's field, as the bag held it
        var old = state.Copy();
        old.SchedulerState = bag.ToJsonString();

        var restored = new SweepCoordinator(Id, Key, CoordinatorSnapshot.Encode(old));
        Assert.Equal(Trials(current), Trials(restored));
        Assert.Equal(current.Snapshot(), restored.Snapshot());   // its next snapshot holds the scheduler's own state again
    }

    [Fact]
    public void A_capture_is_a_copy_that_later_inputs_do_not_change()
    {
        var c = new SweepCoordinator(Id, Key);
        Assert.True(c.Apply(new SweepStarted(ViewTests.Demo())).Changed);
        var captured = c.CaptureState();
        var before = CoordinatorSnapshot.Encode(captured);
        Assert.True(c.Apply(new SweepCancelled()).Changed);   // the state, its trials and its events all change
        Assert.NotEqual(before, c.Snapshot());
        Assert.Equal(before, CoordinatorSnapshot.Encode(captured));

        // Every property is copied: a new collection where the state holds one, the same value otherwise.
        var state = c.CaptureState();
        var copy = state.Copy();
        foreach (var p in typeof(CoordinatorState).GetProperties().Where(p => p.GetIndexParameters().Length == 0))
        {
            var (a, b) = (p.GetValue(state), p.GetValue(copy));
            if (a is System.Collections.IEnumerable and not string)
            {
                Assert.False(ReferenceEquals(a, b), $"{p.Name}: shared with the copy");
                Assert.Equal(((System.Collections.IEnumerable)a).Cast<object>().Count(), ((System.Collections.IEnumerable)b!).Cast<object>().Count());
            }
            else
            {
                Assert.True(Equals(a, b), $"{p.Name}: not copied ({a} vs {b})");
            }
        }
    }

    public static TheoryData<string, int> Cuts => new()
    {
        { "the header", 10 },
        { "the core's length", 20 },
        { "the core", 200 },
        { "the trial blocks", -5000 },
        { "the last detail", -3 },
    };

    [Theory]
    [MemberData(nameof(Cuts))]
    public void A_cut_snapshot_is_an_error_naming_the_sweep(string where, int at)
    {
        var bytes = Synthetic(30);
        var cut = bytes[..(at > 0 ? at : bytes.Length + at)];
        var e = Assert.Throws<InvalidDataException>(() => new SweepCoordinator(Id, Key, cut));
        Assert.Contains($"sweep {Id}", e.Message);
        Assert.True(e.Message.Contains("damaged", StringComparison.Ordinal) || e.Message.Contains("ends before", StringComparison.Ordinal), $"cut in {where}: {e.Message}");
    }

    [Fact]
    public void The_schedulers_state_is_its_own_part_and_damage_to_it_is_named()
    {
        var bytes = Synthetic(30);
        var restored = new SweepCoordinator(Id, Key, bytes);
        var scheduler = restored.CaptureState().SchedulerState;
        Assert.Contains("\"Study\"", scheduler);   // promotion ASHA's state, restored and written again
        Assert.Equal(bytes, restored.Snapshot());

        var at = bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(scheduler));
        Assert.True(at > 0, "the scheduler's state is stored as its own JSON");
        var damaged = (byte[])bytes.Clone();
        damaged[at] = (byte)'#';
        var e = Assert.Throws<InvalidDataException>(() => new SweepCoordinator(Id, Key, damaged));
        Assert.StartsWith($"sweep {Id}: its scheduler state is damaged", e.Message);
    }

    [Fact]
    public void Damaged_details_are_an_error_naming_the_trial_when_it_is_read_and_the_rest_still_answer()
    {
        var bytes = Synthetic(30);
        var c = new SweepCoordinator(Id, Key, bytes);
        var captured = c.CaptureState();
        var (trial, stored) = captured.UnparsedDetails.First(p => p.Key == 12);

        // Overwrite the middle of trial 12's details in place.
        var damaged = (byte[])bytes.Clone();
        var offset = bytes.AsSpan().IndexOf(stored.Span);
        Assert.True(offset > 0);
        damaged.AsSpan(offset + (stored.Length / 2), 8).Fill((byte)'#');

        var restored = new SweepCoordinator(Id, Key, damaged);   // details are not parsed here
        Assert.Equal(3, restored.Trial(11)!.Trial.LastFolds.Length);
        var e = Assert.Throws<InvalidDataException>(() => restored.Trial(trial));
        Assert.Contains($"sweep {Id}: trial 12's stored fold details are damaged", e.Message);
    }
}
