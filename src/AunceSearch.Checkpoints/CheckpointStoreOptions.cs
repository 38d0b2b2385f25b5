namespace AunceSearch.Checkpoints;

/// <summary>Which checkpoint store a host uses (configuration section <c>Aunce:Checkpoints</c>).</summary>
public sealed class CheckpointStoreOptions
{
    public const string SectionName = "Aunce:Checkpoints";

    /// <summary>"local" (a directory; the embedded default) or "azure-blob".</summary>
    public string Store { get; set; } = "local";

    /// <summary>The directory of the local store.</summary>
    public string Path { get; set; } = ".aunce/checkpoints";

    /// <summary>Azure Storage connection string (e.g. <c>UseDevelopmentStorage=true</c> for Azurite).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Blob container name (created if missing).</summary>
    public string Container { get; set; } = "aunce-checkpoints";

    /// <summary>
    /// Per fold, the most checkpoint bytes (in MiB) held in memory while the store does not take them (an outage, a slow
    /// link). Training goes on through a short outage; at this bound it pauses, the held checkpoints are written as the
    /// store comes back, and training resumes from the last of them. One finished epoch is always held, however large.
    /// </summary>
    public double MaxBufferedMiB { get; set; } = 512;

    /// <summary><see cref="MaxBufferedMiB"/> in bytes.</summary>
    public long MaxBufferedBytes => (long)Math.Min(MaxBufferedMiB * 1024 * 1024, long.MaxValue);

    /// <summary>Throws naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!double.IsFinite(MaxBufferedMiB) || MaxBufferedMiB <= 0)
        {
            throw new InvalidOperationException($"{SectionName}:MaxBufferedMiB must be a number of MiB above 0 (got {MaxBufferedMiB})");
        }

        switch (Store)
        {
            case "local":
                if (string.IsNullOrWhiteSpace(Path))
                {
                    throw new InvalidOperationException($"{SectionName}:Path must name a directory for the local checkpoint store");
                }

                break;
            case "azure-blob":
                if (string.IsNullOrWhiteSpace(ConnectionString))
                {
                    throw new InvalidOperationException($"{SectionName}:ConnectionString is required when {SectionName}:Store is azure-blob");
                }

                try
                {
                    _ = new Azure.Storage.Blobs.BlobServiceClient(ConnectionString);
                }
                catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
                {
                    throw new InvalidOperationException($"{SectionName}:ConnectionString is not a valid Azure Storage connection string ({e.Message.Split('\n')[0].TrimEnd('.', ' ')}); " +
                                                        "e.g. UseDevelopmentStorage=true or DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net");
                }

                if (Container.Length is < 3 or > 63 || !Container.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
                {
                    throw new InvalidOperationException($"{SectionName}:Container '{Container}' is not a valid blob container name (3-63 lower-case letters, digits, '-')");
                }

                break;
            default:
                throw new InvalidOperationException($"{SectionName}:Store '{Store}' is not one of: local, azure-blob");
        }
    }
}

/// <summary>Builds the configured store.</summary>
public static class CheckpointStoreFactory
{
    public static ICheckpointStore Create(CheckpointStoreOptions options)
    {
        options.Validate();
        return options.Store == "azure-blob"
            ? new BlobCheckpointStore(options.ConnectionString!, options.Container)
            : new LocalDirectoryCheckpointStore(options.Path);
    }
}
