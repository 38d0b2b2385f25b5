using AunceSearch.Contracts;

namespace AunceSearch.Coordination;

/// <summary>A fold that holds a training slot: on which trainer silo and which of its devices.</summary>
public sealed record SlotLease(string FoldKey, string SweepId, string Silo, int Device);

/// <summary>
/// The cluster's training slots and the queue of folds waiting for one: which trainer silos advertise how many slots on
/// which devices, which fold holds which slot, and who gets the next free one. Pure and deterministic: no clock, no
/// Orleans; the slot director grain feeds it adverts, requests and releases, and starts the leases it hands out.
/// <para>
/// <b>Fair share across sweeps</b> (max-min on slots held): a free slot goes to the sweep, among those with folds waiting,
/// that holds the fewest slots now; a tie goes to the sweep whose oldest waiting fold has waited longest (queued first).
/// Within a sweep, folds start in the order they were queued. So two sweeps on a full cluster converge to equal halves as
/// folds end, and a sweep submitted later does not wait for an earlier one to drain.
/// </para>
/// <para>
/// <b>Packing</b>: a fold goes to the device with the fewest free slots that still has one (best fit), ties broken by silo
/// and device index; small trials fill one GPU several deep before the next GPU is opened, keeping whole devices free.
/// </para>
/// </summary>
public sealed class SlotLedger
{
    private sealed class Trainer(string silo, string name, SlotDevice[] devices)
    {
        public string Silo { get; } = silo;

        public string Name { get; set; } = name;

        public SlotDevice[] Devices { get; set; } = devices;

        /// <summary>How many adverts this silo sent: a lease the silo has not listed two adverts after its grant is gone.</summary>
        public long Adverts { get; set; }
    }

    private sealed record Lease(SlotLease Slot, long GrantedAtAdvert);

    private sealed record Waiting(string FoldKey, string SweepId, long Sequence);

    private readonly SortedDictionary<string, Trainer> _trainers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Lease> _leases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Waiting> _queue = new(StringComparer.Ordinal);
    private long _sequence;

    /// <summary>Trainer silos advertising slots now.</summary>
    public int Trainers => _trainers.Count;

    /// <summary>All advertised slots.</summary>
    public int TotalSlots => _trainers.Values.Sum(t => t.Devices.Sum(d => d.Slots));

    /// <summary>Slots held by folds.</summary>
    public int BusySlots => _leases.Count;

    /// <summary>Folds waiting for a slot.</summary>
    public int Queued => _queue.Count;

    public SlotLease? LeaseOf(string foldKey) => _leases.TryGetValue(foldKey, out var lease) ? lease.Slot : null;

    public bool IsQueued(string foldKey) => _queue.ContainsKey(foldKey);

    /// <summary>The silos that advertise slots or hold leases (a withdrawn silo's folds still hold theirs until it is gone).</summary>
    public IReadOnlyCollection<string> Silos => [.. _trainers.Keys.Concat(_leases.Values.Select(l => l.Slot.Silo)).Distinct(StringComparer.Ordinal)];

    /// <summary>Whether <paramref name="silo"/> advertises slots now.</summary>
    public bool Advertises(string silo) => _trainers.ContainsKey(silo);

    /// <summary>
    /// A trainer silo's advert: its devices and the folds training on it now. Adds or updates the silo; a fold it runs that
    /// holds no lease (the ledger was rebuilt, or the fold's activation outlived its last lease elsewhere) gets one here; a
    /// lease on this silo that the silo has not listed for a whole advert after its grant is released (the fold never
    /// started, or ended without its release arriving).
    /// </summary>
    public void Advertise(string silo, string name, IReadOnlyList<SlotDevice> devices, IReadOnlyList<RunningFold> running)
    {
        ArgumentException.ThrowIfNullOrEmpty(silo);
        foreach (var d in devices)
        {
            if (d.Slots < 0 || d.Index < 0)
            {
                throw new ArgumentException($"trainer {name}: device {d.Index} advertises {d.Slots} slots; both must be ≥ 0", nameof(devices));
            }
        }

        if (!_trainers.TryGetValue(silo, out var trainer))
        {
            trainer = new Trainer(silo, name, [.. devices]);
            _trainers[silo] = trainer;
        }

        trainer.Name = name;
        trainer.Devices = [.. devices];
        trainer.Adverts++;
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fold in running)
        {
            listed.Add(fold.FoldKey);
            _queue.Remove(fold.FoldKey);
            if (!_leases.TryGetValue(fold.FoldKey, out var lease) || lease.Slot.Silo != silo || lease.Slot.Device != fold.Device)
            {
                _leases[fold.FoldKey] = new Lease(new SlotLease(fold.FoldKey, fold.SweepId, silo, fold.Device), trainer.Adverts);
            }
        }

        foreach (var stale in _leases.Values.Where(l => l.Slot.Silo == silo && !listed.Contains(l.Slot.FoldKey) && l.GrantedAtAdvert < trainer.Adverts - 1).ToList())
        {
            _leases.Remove(stale.Slot.FoldKey);
        }
    }

    /// <summary>
    /// A trainer silo is stopping (a drain): no fold goes there any more, but its folds keep their leases while they
    /// checkpoint and stop; <see cref="Remove"/> ends them once the silo is gone.
    /// </summary>
    public void Withdraw(string silo) => _trainers.Remove(silo);

    /// <summary>A trainer silo left (drained, stopped or declared dead): no fold goes there any more, and its leases end.</summary>
    public IReadOnlyList<SlotLease> Remove(string silo)
    {
        _trainers.Remove(silo);
        var gone = _leases.Values.Where(l => l.Slot.Silo == silo).Select(l => l.Slot).ToList();
        foreach (var lease in gone)
        {
            _leases.Remove(lease.FoldKey);
        }

        return gone;
    }

    /// <summary>Queues a fold for a slot; false if it is already queued or holds one.</summary>
    public bool Enqueue(string foldKey, string sweepId)
    {
        if (_leases.ContainsKey(foldKey) || _queue.ContainsKey(foldKey))
        {
            return false;
        }

        _queue[foldKey] = new Waiting(foldKey, sweepId, ++_sequence);
        return true;
    }

    /// <summary>Takes a fold out of the queue; false if it was not waiting.</summary>
    public bool Dequeue(string foldKey) => _queue.Remove(foldKey);

    /// <summary>Frees a fold's slot, if <paramref name="silo"/> holds it (a release from an earlier placement frees nothing).</summary>
    public bool Release(string foldKey, string silo)
    {
        if (_leases.TryGetValue(foldKey, out var lease) && lease.Slot.Silo == silo)
        {
            _leases.Remove(foldKey);
            return true;
        }

        return false;
    }

    /// <summary>Hands the free slots to waiting folds, fairly across sweeps and packed onto devices: the leases to start now.</summary>
    public IReadOnlyList<SlotLease> Dispatch()
    {
        var granted = new List<SlotLease>();
        var free = FreeSlots();
        var held = _leases.Values.GroupBy(l => l.Slot.SweepId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        while (_queue.Count > 0 && free.Count > 0)
        {
            var next = _queue.Values
                .GroupBy(w => w.SweepId, StringComparer.Ordinal)
                .Select(g => (Sweep: g.Key, Held: held.GetValueOrDefault(g.Key), First: g.MinBy(w => w.Sequence)!))
                .OrderBy(s => s.Held).ThenBy(s => s.First.Sequence)
                .First().First;

            // Best fit: the device with the fewest free slots that has one.
            var slot = free.OrderBy(f => f.Free).ThenBy(f => f.Silo, StringComparer.Ordinal).ThenBy(f => f.Device).First();
            _queue.Remove(next.FoldKey);
            var lease = new SlotLease(next.FoldKey, next.SweepId, slot.Silo, slot.Device);
            _leases[next.FoldKey] = new Lease(lease, _trainers[slot.Silo].Adverts);
            held[next.SweepId] = held.GetValueOrDefault(next.SweepId) + 1;
            granted.Add(lease);
            free.Remove(slot);
            if (slot.Free > 1)
            {
                free.Add(slot with { Free = slot.Free - 1 });
            }
        }

        return granted;
    }

    /// <summary>What the ledger holds now, per sweep and per trainer.</summary>
    public SlotStatus Status()
    {
        var sweeps = _leases.Values.Select(l => l.Slot.SweepId).Concat(_queue.Values.Select(w => w.SweepId)).Distinct(StringComparer.Ordinal)
            .OrderBy(s => s, StringComparer.Ordinal)
            .Select(s => new SweepSlots(s, _leases.Values.Count(l => l.Slot.SweepId == s), _queue.Values.Count(w => w.SweepId == s)))
            .ToArray();
        var trainers = _trainers.Values.Select(t => new TrainerSlots(t.Silo, t.Name, t.Devices,
            _leases.Values.Count(l => l.Slot.Silo == t.Silo))).ToArray();
        return new SlotStatus(trainers, sweeps, TotalSlots, BusySlots, Queued);
    }

    private List<(string Silo, int Device, int Free)> FreeSlots()
    {
        var used = _leases.Values.GroupBy(l => (l.Slot.Silo, l.Slot.Device)).ToDictionary(g => g.Key, g => g.Count());
        return [.. _trainers.Values.SelectMany(t => t.Devices.Select(d => (t.Silo, d.Index, Free: d.Slots - used.GetValueOrDefault((t.Silo, d.Index)))))
            .Where(f => f.Free > 0)];
    }
}
