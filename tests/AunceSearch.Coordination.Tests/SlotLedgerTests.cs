using AunceSearch.Contracts;

namespace AunceSearch.Coordination.Tests;

/// <summary>
/// The slot ledger: folds wait when no slot is free and start as slots free or trainers join; a free slot goes to the
/// sweep holding the fewest; devices fill best-fit (several small trials per GPU) and each lease names its device; adverts
/// heal a ledger that lost track (a restarted director, a release that never arrived).
/// </summary>
public sealed class SlotLedgerTests
{
    private static SlotDevice Gpu(int index, int slots) => new(index, "cuda", 80L << 30, slots);

    private static string Fold(string sweep, int trial, int fold) => GrainKeys.Fold(sweep, trial, fold);

    private static SlotLedger With(params (string Silo, SlotDevice[] Devices)[] trainers)
    {
        var ledger = new SlotLedger();
        foreach (var (silo, devices) in trainers)
        {
            ledger.Advertise(silo, silo, devices, []);
        }

        return ledger;
    }

    [Fact]
    public void With_no_trainer_folds_wait_and_start_when_one_joins()
    {
        var ledger = new SlotLedger();
        Assert.True(ledger.Enqueue(Fold("a", 0, 1), "a"));
        Assert.True(ledger.Enqueue(Fold("a", 0, 2), "a"));
        Assert.Empty(ledger.Dispatch());
        Assert.Equal(2, ledger.Queued);
        var waiting = ledger.Status();
        Assert.Contains("no trainer silo has joined", waiting.Waiting);
        Assert.Equal(2, waiting.QueuedFor("a"));

        ledger.Advertise("s1", "trainer-1", [Gpu(0, 1)], []);
        var first = Assert.Single(ledger.Dispatch());
        Assert.Equal((Fold("a", 0, 1), "s1", 0), (first.FoldKey, first.Silo, first.Device));   // in the order queued
        Assert.Empty(ledger.Dispatch());
        Assert.Contains("wait for a free slot (1 of 1 busy on 1 trainer silo(s))", ledger.Status().Waiting);

        Assert.True(ledger.Release(first.FoldKey, "s1"));
        Assert.Equal(Fold("a", 0, 2), Assert.Single(ledger.Dispatch()).FoldKey);
        Assert.Null(ledger.Status().Waiting);
    }

    [Fact]
    public void Never_more_leases_than_slots_and_each_names_a_device_with_room()
    {
        var ledger = With(("s1", [Gpu(0, 2), Gpu(1, 2)]), ("s2", [Gpu(0, 1)]));
        for (var i = 0; i < 9; i++)
        {
            ledger.Enqueue(Fold("a", i, 1), "a");
        }

        var leases = ledger.Dispatch();
        Assert.Equal(5, leases.Count);
        Assert.Equal(4, ledger.Queued);
        foreach (var device in leases.GroupBy(l => (l.Silo, l.Device)))
        {
            Assert.True(device.Count() <= (device.Key.Silo == "s1" ? 2 : 1), $"{device.Key} holds {device.Count()}");
        }

        Assert.Empty(ledger.Dispatch());
    }

    [Fact]
    public void Small_trials_pack_onto_the_fullest_device_that_has_room()
    {
        var ledger = With(("s1", [Gpu(0, 4), Gpu(1, 4)]), ("s2", [Gpu(0, 4)]));
        ledger.Enqueue(Fold("a", 0, 1), "a");
        var first = Assert.Single(ledger.Dispatch());
        ledger.Enqueue(Fold("a", 1, 1), "a");
        ledger.Enqueue(Fold("a", 2, 1), "a");
        var next = ledger.Dispatch();

        // All three share the first device instead of opening a device each.
        Assert.All(next, l => Assert.Equal((first.Silo, first.Device), (l.Silo, l.Device)));
        Assert.Equal(("s1", 0), (first.Silo, first.Device));
    }

    [Fact]
    public void A_free_slot_goes_to_the_sweep_holding_the_fewest()
    {
        var ledger = With(("s1", [Gpu(0, 4)]));
        for (var i = 0; i < 6; i++)
        {
            ledger.Enqueue(Fold("big", i, 1), "big");   // queued first: takes the empty cluster
        }

        Assert.Equal(4, ledger.Dispatch().Count);
        for (var i = 0; i < 3; i++)
        {
            ledger.Enqueue(Fold("late", i, 1), "late");
        }

        // As "big" frees slots, "late" (holding none) gets them until both hold two.
        ledger.Release(Fold("big", 0, 1), "s1");
        Assert.Equal("late", Assert.Single(ledger.Dispatch()).SweepId);
        ledger.Release(Fold("big", 1, 1), "s1");
        Assert.Equal("late", Assert.Single(ledger.Dispatch()).SweepId);
        var status = ledger.Status();
        Assert.Equal(2, status.Sweeps.Single(s => s.SweepId == "big").Held);
        Assert.Equal(2, status.Sweeps.Single(s => s.SweepId == "late").Held);

        // Two slots free at once with both holding one: the tie goes to the sweep whose oldest waiting fold was queued first
        // ("big"), then "late" holds the fewest.
        ledger.Release(Fold("big", 2, 1), "s1");
        ledger.Release(Fold("late", 0, 1), "s1");
        Assert.Equal(["big", "late"], ledger.Dispatch().Select(l => l.SweepId));
    }

    [Fact]
    public void A_release_from_an_earlier_placement_frees_nothing()
    {
        var ledger = With(("s1", [Gpu(0, 1)]), ("s2", [Gpu(0, 1)]));
        ledger.Enqueue(Fold("a", 0, 1), "a");
        var lease = Assert.Single(ledger.Dispatch());
        var other = lease.Silo == "s1" ? "s2" : "s1";
        Assert.False(ledger.Release(lease.FoldKey, other));
        Assert.Equal(lease, ledger.LeaseOf(lease.FoldKey));
        Assert.False(ledger.Enqueue(lease.FoldKey, "a"));   // holding a slot: not queued twice
    }

    [Fact]
    public void A_lost_trainer_ends_its_leases_and_a_withdrawn_one_takes_no_more_folds()
    {
        var ledger = With(("s1", [Gpu(0, 2)]), ("s2", [Gpu(0, 2)]));
        for (var i = 0; i < 4; i++)
        {
            ledger.Enqueue(Fold("a", i, 1), "a");
        }

        Assert.Equal(4, ledger.Dispatch().Count);
        var lost = ledger.Remove("s1");
        Assert.Equal(2, lost.Count);
        Assert.All(lost, l => Assert.Null(ledger.LeaseOf(l.FoldKey)));
        Assert.Equal(2, ledger.TotalSlots);

        ledger.Withdraw("s2");   // draining: its folds keep their leases until it is gone
        Assert.Equal(2, ledger.BusySlots);
        Assert.Contains("s2", ledger.Silos);
        ledger.Enqueue(Fold("a", 9, 1), "a");
        Assert.Empty(ledger.Dispatch());
        Assert.Equal(2, ledger.Remove("s2").Count);
        Assert.Empty(ledger.Silos);
    }

    [Fact]
    public void Adverts_rebuild_leases_and_free_those_whose_fold_never_started()
    {
        // A restarted director: the trainer's advert says what runs there, and it is not started twice.
        var ledger = new SlotLedger();
        ledger.Enqueue(Fold("a", 0, 1), "a");
        ledger.Advertise("s1", "t1", [Gpu(0, 2), Gpu(1, 1)], [new RunningFold(Fold("a", 0, 1), "a", 1)]);
        Assert.Equal(0, ledger.Queued);
        Assert.Equal(("s1", 1), (ledger.LeaseOf(Fold("a", 0, 1))!.Silo, ledger.LeaseOf(Fold("a", 0, 1))!.Device));

        // A lease whose fold the silo does not list is kept through the next advert (the start may be in flight) and freed
        // by the one after.
        ledger.Enqueue(Fold("a", 1, 1), "a");
        var granted = Assert.Single(ledger.Dispatch());
        ledger.Advertise("s1", "t1", [Gpu(0, 2), Gpu(1, 1)], [new RunningFold(Fold("a", 0, 1), "a", 1)]);
        Assert.NotNull(ledger.LeaseOf(granted.FoldKey));
        ledger.Advertise("s1", "t1", [Gpu(0, 2), Gpu(1, 1)], [new RunningFold(Fold("a", 0, 1), "a", 1)]);
        Assert.Null(ledger.LeaseOf(granted.FoldKey));
        Assert.Equal(1, ledger.BusySlots);
    }

    [Fact]
    public void A_negative_slot_count_is_refused_naming_the_trainer_and_device()
    {
        var e = Assert.Throws<ArgumentException>(() => new SlotLedger().Advertise("s1", "gpu-7", [Gpu(2, -1)], []));
        Assert.Contains("trainer gpu-7: device 2 advertises -1 slots", e.Message);
    }

    [Fact]
    public void Dispatch_is_deterministic()
    {
        static string Run()
        {
            var ledger = With(("s2", [Gpu(0, 2), Gpu(1, 2)]), ("s1", [Gpu(0, 3)]));
            for (var i = 0; i < 10; i++)
            {
                ledger.Enqueue(Fold(i % 3 == 0 ? "x" : "y", i, 1), i % 3 == 0 ? "x" : "y");
            }

            return string.Join(";", ledger.Dispatch().Select(l => $"{l.FoldKey}@{l.Silo}:{l.Device}"));
        }

        Assert.Equal(Run(), Run());
    }
}
