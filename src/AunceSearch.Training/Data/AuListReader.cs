using System.Globalization;

namespace AunceSearch.Training.Data;

/// <summary>A data file is malformed; the message names the file (and line) and what is wrong.</summary>
public sealed class DataFormatException(string message) : Exception(message);

/// <summary>One split of one fold: image paths (absolute), their 0/1 AU labels and subject ids.</summary>
public sealed record AuSplit(IReadOnlyList<string> ImagePaths, float[,] Labels, IReadOnlyList<string> Subjects, IReadOnlyList<string> AuNames)
{
    /// <summary>Where each entry was listed ("file:line"), for error messages; empty = unknown.</summary>
    public IReadOnlyList<string> Origins { get; init; } = [];

    /// <summary>Entries left out because the dataset opted in to skipping bad input ("file:line: reason").</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];

    public int Count => ImagePaths.Count;

    /// <summary>Where entry <paramref name="i"/> was listed.</summary>
    public string Origin(int i) => i < Origins.Count ? Origins[i] : $"entry {i + 1}";

    /// <summary>The entries whose indices are in <paramref name="keep"/> (ascending), with <paramref name="skipped"/> added to <see cref="Skipped"/>.</summary>
    public AuSplit Subset(IReadOnlyList<int> keep, IEnumerable<string> skipped)
    {
        var labels = new float[keep.Count, AuCount];
        for (var r = 0; r < keep.Count; r++)
        {
            for (var c = 0; c < AuCount; c++)
            {
                labels[r, c] = Labels[keep[r], c];
            }
        }

        return new AuSplit([.. keep.Select(i => ImagePaths[i])], labels, [.. keep.Select(i => Subjects[i])], AuNames)
        {
            Origins = Origins.Count == 0 ? [] : [.. keep.Select(i => Origins[i])],
            Skipped = [.. Skipped.Concat(skipped)],
        };
    }

    /// <summary>Builds a split from rows (paths, labels, subjects and origins in step).</summary>
    public static AuSplit FromRows(IReadOnlyList<string> paths, IReadOnlyList<float[]> rows, IReadOnlyList<string> subjects,
        IReadOnlyList<string> auNames, IReadOnlyList<string> origins, IReadOnlyList<string> skipped)
    {
        var labels = new float[rows.Count, auNames.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            for (var c = 0; c < auNames.Count; c++)
            {
                labels[i, c] = rows[i][c];
            }
        }

        return new AuSplit(paths, labels, subjects, auNames) { Origins = origins, Skipped = skipped };
    }

    public int AuCount => AuNames.Count;

    /// <summary>Per-AU occurrence rate r_i = #(label 1) / #rows.</summary>
    public double[] OccurrenceRates()
    {
        var rates = new double[AuCount];
        for (var i = 0; i < Count; i++)
        {
            for (var c = 0; c < AuCount; c++)
            {
                rates[c] += Labels[i, c];
            }
        }

        return [.. rates.Select(r => r / Math.Max(1, Count))];
    }
}

/// <summary>
/// Reads the AUNCE reference list-file layout (used for BP4D and DISFA):
/// <c>&lt;root&gt;/&lt;list dir&gt;/&lt;NAME&gt;_{train,test}_img_path_fold&lt;f&gt;.txt</c> (one relative image path per line) and
/// <c>&lt;NAME&gt;_{train,test}_label_fold&lt;f&gt;.txt</c> (one whitespace-separated 0/1 row per image, C columns).
/// The list dir is <c>list_256x256</c> (reference HEAD) or <c>list</c>; images live under <c>img_256x256</c> or <c>img</c>.
/// AU names come from the caller or from <c>&lt;list dir&gt;/au_names.txt</c>.
/// </summary>
public static class AuListReader
{
    public static readonly string[] ListDirectories = ["list_256x256", "list"];
    public static readonly string[] ImageDirectories = ["img_256x256", "img"];

    public static string FindListDirectory(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new DataFormatException($"{root}: dataset root does not exist");
        }

        foreach (var d in ListDirectories)
        {
            var p = Path.Combine(root, d);
            if (Directory.Exists(p))
            {
                return p;
            }
        }

        throw new DataFormatException($"{root}: no list directory ({string.Join(" or ", ListDirectories)}) under the dataset root");
    }

    public static string FindImageDirectory(string root)
    {
        foreach (var d in ImageDirectories)
        {
            var p = Path.Combine(root, d);
            if (Directory.Exists(p))
            {
                return p;
            }
        }

        throw new DataFormatException($"{root}: no image directory ({string.Join(" or ", ImageDirectories)}) under the dataset root");
    }

    /// <summary>Reads the AU names file (one line, whitespace-separated).</summary>
    public static IReadOnlyList<string> ReadAuNames(string root)
    {
        var file = Path.Combine(FindListDirectory(root), "au_names.txt");
        if (!File.Exists(file))
        {
            throw new DataFormatException($"{file}: not found; list the AUs in the spec (dataset.aus) or write this file");
        }

        var names = File.ReadAllText(file).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return names.Length > 0 ? names : throw new DataFormatException($"{file}:1: no AU names");
    }

    /// <summary>Reads one split (<paramref name="split"/> = "train" or "test") of fold <paramref name="fold"/>.</summary>
    /// <remarks>
    /// With <paramref name="skipBad"/>, malformed label rows (and their image) and images that do not exist are left out and
    /// listed in <see cref="AuSplit.Skipped"/>; without it they are errors naming file and line. A row-count mismatch between
    /// the two files is always an error (the files no longer say which label belongs to which image).
    /// </remarks>
    public static AuSplit Read(string root, string listName, string split, int fold, IReadOnlyList<string>? auNames = null, bool skipBad = false)
    {
        var listDir = FindListDirectory(root);
        var imageDir = FindImageDirectory(root);
        var names = auNames ?? ReadAuNames(root);
        var pathFile = Path.Combine(listDir, $"{listName}_{split}_img_path_fold{fold}.txt");
        var labelFile = Path.Combine(listDir, $"{listName}_{split}_label_fold{fold}.txt");
        foreach (var f in new[] { pathFile, labelFile })
        {
            if (!File.Exists(f))
            {
                throw new DataFormatException($"{f}: list file not found");
            }
        }

        var paths = new List<string>();
        var subjects = new List<string>();
        var origins = new List<string>();
        var skipped = new List<string>();
        var bad = new HashSet<int>();
        var pathName = Path.GetFileName(pathFile);
        var lineNo = 0;
        foreach (var raw in Lines(pathFile))
        {
            lineNo++;
            var line = raw.Trim();

            var rel = line.Replace('\\', '/');
            if (Path.IsPathRooted(rel) || rel.Split('/').Contains(".."))
            {
                throw new DataFormatException($"{pathFile}:{lineNo}: image path '{line}' must be relative to {imageDir} without '..'");
            }

            paths.Add(Path.Combine(imageDir, rel));
            subjects.Add(rel.Split('/')[0]);
            origins.Add($"{pathName}:{lineNo}");
        }

        var rows = new List<float[]>();
        lineNo = 0;
        foreach (var raw in Lines(labelFile))
        {
            lineNo++;
            var cols = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

            var problem = ParseRow(cols, names, out var row);
            if (problem is not null)
            {
                if (!skipBad)
                {
                    throw new DataFormatException($"{labelFile}:{lineNo}: {problem}");
                }

                skipped.Add($"{Path.GetFileName(labelFile)}:{lineNo}: {problem}");
                bad.Add(rows.Count);
            }

            rows.Add(row);
        }

        if (rows.Count != paths.Count)
        {
            throw new DataFormatException($"{labelFile}: {rows.Count} label rows but {pathFile} lists {paths.Count} images");
        }

        if (paths.Count == 0)
        {
            throw new DataFormatException($"{pathFile}: the list is empty");
        }

        var all = AuSplit.FromRows(paths, rows, subjects, names, origins, skipped);
        return DropMissing(all, bad, skipBad);
    }

    /// <summary>
    /// The lines of a list or label file up to its last non-blank line. The two files pair by line, so a blank or
    /// whitespace-only line inside either is an error naming it: skipping it in one file only would pair every later
    /// image with the next image's labels, silently. Blank lines after the last entry are ignored.
    /// </summary>
    public static List<string> Lines(string file)
    {
        var lines = File.ReadAllLines(file).ToList();
        while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[^1]))
        {
            lines.RemoveAt(lines.Count - 1);
        }

        // A control character (a NUL from a bad copy, a stray escape) is no part of a path or a label row: named where it is.
        var control = lines.FindIndex(l => l.Any(c => char.IsControl(c) && c != '\t'));
        if (control >= 0)
        {
            var column = lines[control].ToList().FindIndex(c => char.IsControl(c) && c != '\t');
            throw new DataFormatException($"{file}:{control + 1}:{column + 1}: a control character (U+{(int)lines[control][column]:X4}) in the line; " +
                                          "a list line is an image path, a label line numbers separated by spaces");
        }

        var blank = lines.FindIndex(string.IsNullOrWhiteSpace);
        if (blank >= 0)
        {
            throw new DataFormatException(
                $"{file}:{blank + 1}: blank line inside the list; each line is one image (list) or its labels (label file), paired by line number, " +
                "so a blank line would shift every later entry — remove it");
        }

        return lines;
    }

    /// <summary>Parses one row's label columns (one per AU in <paramref name="names"/>) into 0/1 values; returns what is wrong, or null.</summary>
    public static string? ParseRow(IReadOnlyList<string> cols, IReadOnlyList<string> names, out float[] row)
    {
        row = new float[names.Count];
        if (cols.Count != names.Count)
        {
            return $"expected {names.Count} label columns ({string.Join(" ", names)}), found {cols.Count}";
        }

        for (var c = 0; c < names.Count; c++)
        {
            var text = cols[c];
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || (v != 0 && v != 1))
            {
                return $"column {c + 1} ({names[c]}) is '{text}'; labels must be 0 or 1";
            }

            row[c] = (float)v;
        }

        return null;
    }

    /// <summary>
    /// Removes the rows in <paramref name="bad"/> and, with <paramref name="skipBad"/>, the rows whose image file does not
    /// exist (a missing image without it is left for the image loader to report with its list line).
    /// </summary>
    public static AuSplit DropMissing(AuSplit split, IReadOnlySet<int> bad, bool skipBad)
    {
        var keep = new List<int>(split.Count);
        var skipped = new List<string>();
        for (var i = 0; i < split.Count; i++)
        {
            if (bad.Contains(i))
            {
                continue;
            }

            if (skipBad && AuImages.FileProblem(split.ImagePaths[i]) is { } problem)
            {
                skipped.Add($"{split.Origin(i)}: {problem}");
                continue;
            }

            keep.Add(i);
        }

        if (keep.Count == 0)
        {
            throw new DataFormatException($"{split.Origin(0).Split(':')[0]}: no usable entries ({split.Count} listed, all skipped)");
        }

        return keep.Count == split.Count ? split : split.Subset(keep, skipped);
    }
}
