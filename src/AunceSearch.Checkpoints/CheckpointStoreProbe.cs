using Azure;
using Azure.Storage.Blobs;

namespace AunceSearch.Checkpoints;

/// <summary>
/// One fast check, before any training, that the configured checkpoint store will take a checkpoint: the local directory
/// exists or can be created and a file can be written there; the blob endpoint answers within the timeout, the
/// credentials are accepted and a blob can be written (no retries, so a wrong endpoint fails in seconds, not per trial).
/// </summary>
public static class CheckpointStoreProbe
{
    /// <summary>Null when the store works, else one line naming the setting, the place and what is wrong.</summary>
    public static async Task<string?> CheckAsync(CheckpointStoreOptions options, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        options.Validate();
        return options.Store == "azure-blob"
            ? await CheckBlobAsync(options, timeout, cancellationToken).ConfigureAwait(false)
            : WritableDirectory($"{CheckpointStoreOptions.SectionName}:Path", options.Path);
    }

    /// <summary>Null when <paramref name="path"/> is (or can be made) a directory this process can write a file in.</summary>
    public static string? WritableDirectory(string setting, string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            return $"{setting}: {full} is a file, not a directory";
        }

        var probe = Path.Combine(full, $".aunce-write-probe-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(full);
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{setting}: cannot write in {full} ({e.Message})";
        }
    }

    private static async Task<string?> CheckBlobAsync(CheckpointStoreOptions options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clientOptions = new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06);
        clientOptions.Retry.MaxRetries = 0;
        clientOptions.Retry.NetworkTimeout = timeout;
        var service = new BlobServiceClient(options.ConnectionString, clientOptions);
        var container = service.GetBlobContainerClient(options.Container);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var where = $"{CheckpointStoreOptions.SectionName}:ConnectionString (endpoint {service.Uri.GetLeftPart(UriPartial.Path).TrimEnd('/')}, container {options.Container})";
        try
        {
            await container.CreateIfNotExistsAsync(cancellationToken: deadline.Token).ConfigureAwait(false);
            var probe = container.GetBlobClient($".aunce-write-probe-{Guid.NewGuid():N}");
            await probe.UploadAsync(BinaryData.FromBytes([1]), overwrite: true, deadline.Token).ConfigureAwait(false);
            await probe.DeleteIfExistsAsync(cancellationToken: deadline.Token).ConfigureAwait(false);
            return null;
        }
        catch (RequestFailedException e) when (e.Status is 401 or 403)
        {
            return $"{where}: the credentials were refused ({e.Status} {e.ErrorCode})";
        }
        catch (RequestFailedException e) when (e.Status != 0)
        {
            return $"{where}: the store answered {e.Status} {e.ErrorCode}";
        }
        catch (Exception e) when (e is RequestFailedException or OperationCanceledException or AggregateException or HttpRequestException)
        {
            return $"{where}: not reachable within {timeout.TotalSeconds:0} s ({(e is OperationCanceledException ? "timed out" : e.Message.Split('\n')[0])})";
        }
    }
}
