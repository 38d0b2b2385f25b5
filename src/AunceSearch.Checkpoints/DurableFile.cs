using System.Runtime.InteropServices;

namespace AunceSearch.Checkpoints;

/// <summary>
/// Crash-safe local writes: a file is written under a temporary name, flushed to the disk, renamed over its target and
/// the rename made durable by flushing the directory, so a crash or power loss at any point leaves the old content or
/// the new, never a torn or missing file. The temporary file is removed whatever happens (a full disk included), so an
/// ENOSPC leaves the previous file as it was and nothing behind.
/// </summary>
public static partial class DurableFile
{
    /// <summary>Replaces <paramref name="path"/> with <paramref name="data"/> durably (blocking: call it off any scheduler thread that must not wait).</summary>
    public static void Replace(string path, ReadOnlySpan<byte> data, bool flushToDisk = true)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var tmp = $"{path}.tmp-{Guid.NewGuid():N}";
        try
        {
            using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                file.Write(data);
                file.Flush(flushToDisk);
            }

            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            TryDelete(tmp);
        }

        if (flushToDisk)
        {
            FlushDirectory(directory);
        }
    }

    /// <summary>Makes the entries of <paramref name="directory"/> (a rename, a new or deleted file) durable: fsync on the directory (Linux and macOS; a no-op elsewhere).</summary>
    public static void FlushDirectory(string directory)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
        {
            return;   // Windows makes a rename durable with the file system's own journal; there is no directory handle to flush
        }

        var fd = Open(directory, OpenReadOnly);   // a directory opens read-only like a file; fsync then flushes its entries
        if (fd < 0)
        {
            throw new IOException($"{directory}: cannot open the directory to flush it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno is not (22 or 95))   // EINVAL / EOPNOTSUPP: a file system (tmpfs, some FUSE) that has nothing to flush for a directory
                {
                    throw new IOException($"{directory}: flushing the directory to disk failed (errno {errno})");
                }
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Whether <paramref name="e"/> (or an exception inside it) says the disk is full (ENOSPC, or Windows' disk-full errors).</summary>
    public static bool IsDiskFull(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is IOException && (e.HResult == 28 || (e.HResult & 0xFFFF) is 39 or 112 || e.Message.Contains("No space left on device", StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Removes a file if it is there; a failure to remove a temporary file never hides the error that left it.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // left for the next write's clean-up (temporary names never count as stored data)
        }
    }

    private const int OpenReadOnly = 0;   // O_RDONLY

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
