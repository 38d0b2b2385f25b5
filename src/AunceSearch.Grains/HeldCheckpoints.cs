namespace AunceSearch.Grains;

/// <summary>
/// What a fold's training has finished and the store not yet taken, counted on the training thread and the grain's
/// (and in the silo's <c>aunce.checkpoint.held</c> gauge): <see cref="Add"/> says when it is time to pause (more than
/// one epoch held and over the bound).
/// </summary>
internal sealed class HeldCheckpoints(long bound)
{
    private long _bytes;
    private int _epochs;
    private int _paused;

    public long Bytes => Interlocked.Read(ref _bytes);

    public int Epochs => Volatile.Read(ref _epochs);

    public bool Paused => Volatile.Read(ref _paused) == 1;

    /// <summary>Holds one more epoch's checkpoint; true once (the moment training should pause).</summary>
    public bool Add(long bytes)
    {
        AunceTelemetry.CheckpointsHeld.Add(bytes);
        var total = Interlocked.Add(ref _bytes, bytes);
        var epochs = Interlocked.Increment(ref _epochs);
        return epochs > 1 && total > bound && Interlocked.Exchange(ref _paused, 1) == 0;
    }

    public void Remove(long bytes)
    {
        AunceTelemetry.CheckpointsHeld.Add(-bytes);
        Interlocked.Add(ref _bytes, -bytes);
        Interlocked.Decrement(ref _epochs);
    }
}
