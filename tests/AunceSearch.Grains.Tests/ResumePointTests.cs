using AunceSearch.Checkpoints;
using AunceSearch.Model;
using AunceSearch.Training;
using AunceSearch.Training.Models;

namespace AunceSearch.Grains.Tests;

public sealed class ResumePointTests
{
    private static byte[] RealCheckpoint(int epoch)
    {
        var options = new ModelOptions { Encoder = "small-cnn", Width = 4, FeatureDim = 8, InputSize = 32 };
        using var model = EncoderFactory.Create(options, 3);
        return Checkpoint.Write(new CheckpointHeader
        {
            Label = "t", Epoch = epoch, Seed = 1, AuNames = ["AU1", "AU2", "AU4"], Model = options,
            Hyperparameters = new Dictionary<string, string>(),
        }, model, (Action<BinaryWriter>?)null);
    }

    [Fact]
    public async Task A_fold_resumes_from_the_newest_sound_reported_epoch_and_keeps_damaged_ones_aside()
    {
        var store = new LocalDirectoryCheckpointStore(Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N")));
        var prefix = CheckpointKeys.FoldPrefix("s", 0, 1);
        await store.SaveAsync(CheckpointKeys.ForEpoch("s", 0, 1, 1), RealCheckpoint(1));
        await store.SaveAsync(CheckpointKeys.ForEpoch("s", 0, 1, 2), Array.Empty<byte>());          // torn: zero bytes
        await store.SaveAsync(CheckpointKeys.ForEpoch("s", 0, 1, 3), RealCheckpoint(3));            // written, never reported
        var keys = await store.ListAsync(prefix);

        var point = await ResumePoint.FindAsync(store, keys, upToEpoch: 2, CancellationToken.None);
        Assert.Equal(CheckpointKeys.ForEpoch("s", 0, 1, 1), point.Key);
        var (damaged, reason) = Assert.Single(point.Damaged);
        Assert.Equal(CheckpointKeys.ForEpoch("s", 0, 1, 2), damaged);
        Assert.Contains("empty file (0 bytes)", reason);
        Assert.NotNull(await store.LoadAsync(damaged + ".damaged"));

        // Epoch 3 counts once the trial has heard of it; before any report, nothing does.
        Assert.Equal(CheckpointKeys.ForEpoch("s", 0, 1, 3), (await ResumePoint.FindAsync(store, keys, 3, CancellationToken.None)).Key);
        Assert.Null((await ResumePoint.FindAsync(store, keys, 0, CancellationToken.None)).Key);
    }

    [Fact]
    public async Task A_latest_checkpoint_with_one_flipped_bit_fails_its_sha256_and_the_fold_falls_back_to_the_previous_one()
    {
        var store = new LocalDirectoryCheckpointStore(Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N")));
        await store.SaveAsync(CheckpointKeys.ForEpoch("s", 2, 1, 1), RealCheckpoint(1));
        var flipped = RealCheckpoint(2);
        flipped[flipped.Length / 2] ^= 0x10;   // inside the tensor data: the structure still parses
        await store.SaveAsync(CheckpointKeys.ForEpoch("s", 2, 1, 2), flipped);

        var point = await ResumePoint.FindAsync(store, await store.ListAsync(CheckpointKeys.FoldPrefix("s", 2, 1)), 2, CancellationToken.None);
        Assert.Equal(CheckpointKeys.ForEpoch("s", 2, 1, 1), point.Key);
        var (damaged, reason) = Assert.Single(point.Damaged);
        Assert.Equal(CheckpointKeys.ForEpoch("s", 2, 1, 2), damaged);
        Assert.Contains("SHA-256 mismatch", reason);
    }

    [Fact]
    public void Checkpoints_written_before_digests_still_read_and_a_sealed_one_reads_back_whole()
    {
        var sealedBytes = RealCheckpoint(4);
        Assert.Equal(4, Checkpoint.Inspect(sealedBytes, "sealed").Header.Epoch);

        // The earlier format: magic AUNCECK1 and no trailer.
        var v1 = sealedBytes[..^32];
        "AUNCECK1"u8.CopyTo(v1);
        Assert.Equal(4, Checkpoint.Inspect(v1, "v1").Header.Epoch);

        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Checkpoint.Inspect(sealedBytes[..^40], "cut")).Message, StringComparison.Ordinal);
        var tail = (byte[])sealedBytes.Clone();
        tail[^1] ^= 1;   // the digest itself damaged
        Assert.Contains("SHA-256 mismatch", Assert.Throws<InvalidDataException>(() => Checkpoint.Inspect(tail, "tail")).Message, StringComparison.Ordinal);
    }
}
