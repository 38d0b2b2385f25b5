using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace AunceSearch.Checkpoints;

/// <summary>
/// Checkpoints as block blobs in one container (created on first use). A block blob upload commits atomically,
/// so readers never see a partial checkpoint; transfers are checked with MD5 both ways. Works against Azure Storage and Azurite. The client pins the
/// service API version to 2026-06-06, which both real Azure and Azurite 3.37 accept.
/// </summary>
public sealed class BlobCheckpointStore : ICheckpointStore
{
    private readonly BlobContainerClient _container;
    private readonly SemaphoreSlim _createGate = new(1, 1);
    private volatile bool _created;

    public BlobCheckpointStore(string connectionString, string container)
    {
        var options = new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06);

        // Transfer validation: every upload and download request carries an MD5 the service (or this client) checks, so
        // bytes changed in transit are refused, not stored or loaded. (Checkpoints carry their own SHA-256 as well.)
        options.TransferValidation.Upload.ChecksumAlgorithm = Azure.Storage.StorageChecksumAlgorithm.MD5;
        options.TransferValidation.Download.ChecksumAlgorithm = Azure.Storage.StorageChecksumAlgorithm.MD5;
        options.TransferValidation.Download.AutoValidateChecksum = true;
        var service = new BlobServiceClient(connectionString, options);
        _container = service.GetBlobContainerClient(container);
    }

    public string Locate(string key) => _container.GetBlobClient(CheckpointKeys.Validate(key)).Uri.ToString();

    public async Task<string> SaveAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var blob = _container.GetBlobClient(CheckpointKeys.Validate(key));
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await blob.UploadAsync(BinaryData.FromBytes(data), overwrite: true, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            // Deleted behind our back: recreate and retry once.
            _created = false;
            await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            await blob.UploadAsync(BinaryData.FromBytes(data), overwrite: true, cancellationToken).ConfigureAwait(false);
        }

        return blob.Uri.ToString();
    }

    public async Task<byte[]?> LoadAsync(string key, CancellationToken cancellationToken = default)
    {
        var blob = _container.GetBlobClient(CheckpointKeys.Validate(key));
        try
        {
            var result = await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return result.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var keys = new List<string>();
        try
        {
            await foreach (var item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
            {
                keys.Add(item.Name);
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return [];
        }

        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        await _container.GetBlobClient(CheckpointKeys.Validate(key)).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (_created)
        {
            return;
        }

        await _createGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_created)
            {
                await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                _created = true;
            }
        }
        finally
        {
            _createGate.Release();
        }
    }
}
