using System.Security.Cryptography;

namespace AunceSearch.Checkpoints.Tests;

/// <summary>One behavioural contract, run against every store implementation.</summary>
public abstract class CheckpointStoreConformanceTests
{
    protected abstract ICheckpointStore Store { get; }

    protected string Prefix { get; } = $"run-{Guid.NewGuid():N}";

    [Fact]
    public async Task Save_then_load_round_trips_bytes_exactly()
    {
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var key = $"{Prefix}/t001/f1/e0001.ckpt";
        var location = await Store.SaveAsync(key, data);
        Assert.Equal(Store.Locate(key), location);
        Assert.Equal(data, await Store.LoadAsync(key));
    }

    [Fact]
    public async Task A_checkpoint_larger_than_one_transfer_range_round_trips()
    {
        // Over 4 MiB: a validated blob download is split into ranges, each with its own MD5.
        var data = RandomNumberGenerator.GetBytes((12 * 1024 * 1024) + 5);
        var key = $"{Prefix}/t001/f1/e0003.ckpt";
        await Store.SaveAsync(key, data);
        Assert.Equal(data, await Store.LoadAsync(key));
    }

    [Fact]
    public async Task Overwrite_replaces_the_whole_object()
    {
        var key = $"{Prefix}/t001/f1/e0002.ckpt";
        await Store.SaveAsync(key, new byte[1000]);
        await Store.SaveAsync(key, new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 1, 2, 3 }, await Store.LoadAsync(key));
    }

    [Fact]
    public async Task Missing_objects_load_as_null_and_delete_is_idempotent()
    {
        var key = $"{Prefix}/missing.ckpt";
        Assert.Null(await Store.LoadAsync(key));
        await Store.DeleteAsync(key);
        await Store.SaveAsync(key, new byte[] { 9 });
        await Store.DeleteAsync(key);
        Assert.Null(await Store.LoadAsync(key));
    }

    [Fact]
    public async Task List_returns_keys_under_a_prefix_in_order()
    {
        foreach (var e in new[] { 3, 1, 2 })
        {
            await Store.SaveAsync(CheckpointKeys.ForEpoch(Prefix, 4, 2, e), new byte[] { (byte)e });
        }

        await Store.SaveAsync($"{Prefix}/t005/f1/e0001.ckpt", new byte[] { 0 });
        var keys = await Store.ListAsync($"{Prefix}/t004/f2/");
        Assert.Equal([$"{Prefix}/t004/f2/e0001.ckpt", $"{Prefix}/t004/f2/e0002.ckpt", $"{Prefix}/t004/f2/e0003.ckpt"], keys);
    }

    [Theory]
    [InlineData("../escape.ckpt")]
    [InlineData("/absolute.ckpt")]
    [InlineData("a//b.ckpt")]
    [InlineData("a/./b.ckpt")]
    [InlineData("")]
    public async Task Unsafe_keys_are_rejected(string key)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.SaveAsync(key, new byte[] { 1 }));
    }
}

public sealed class LocalDirectoryCheckpointStoreTests : CheckpointStoreConformanceTests
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "aunce-tests", Guid.NewGuid().ToString("N"));

    public LocalDirectoryCheckpointStoreTests() => Store = new LocalDirectoryCheckpointStore(_root);

    protected override ICheckpointStore Store { get; }

    [Fact]
    public async Task Writes_leave_no_temporary_files_behind()
    {
        await Store.SaveAsync($"{Prefix}/a.ckpt", new byte[] { 1 });
        Assert.Empty(Directory.EnumerateFiles(_root, "*.tmp-*", SearchOption.AllDirectories));
    }
}

/// <summary>
/// Against a real Azurite blob server: ./test.sh starts one on loopback and sets AUNCE_TEST_AZURITE_BLOB
/// (its connection string). Run without it, these tests fail and say so.
/// </summary>
public sealed class BlobCheckpointStoreTests : CheckpointStoreConformanceTests
{
    public const string Variable = "AUNCE_TEST_AZURITE_BLOB";

    public BlobCheckpointStoreTests()
    {
        var connection = Environment.GetEnvironmentVariable(Variable);
        Assert.False(string.IsNullOrWhiteSpace(connection), $"{Variable} is not set: run the tests with ./test.sh, which starts Azurite");
        Store = new BlobCheckpointStore(connection!, $"t{Guid.NewGuid():N}"[..20]);
    }

    protected override ICheckpointStore Store { get; }

    [Fact]
    public void Locations_are_blob_uris()
    {
        Assert.StartsWith("http://127.0.0.1:", Store.Locate($"{Prefix}/x.ckpt"));
    }
}

public class CheckpointStoreOptionsTests
{
    [Theory]
    [InlineData("s3", null, "aunce", "Store 's3' is not one of")]
    [InlineData("azure-blob", null, "aunce", "ConnectionString is required")]
    [InlineData("azure-blob", "UseDevelopmentStorage=true", "Bad_Name", "not a valid blob container name")]
    [InlineData("local", null, "aunce", null)]
    public void Invalid_settings_are_named(string store, string? connection, string container, string? expected)
    {
        var options = new CheckpointStoreOptions { Store = store, ConnectionString = connection, Container = container };
        if (expected is null)
        {
            options.Validate();
            return;
        }

        var e = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains(expected, e.Message);
        Assert.Contains("Aunce:Checkpoints:", e.Message);
    }
}
