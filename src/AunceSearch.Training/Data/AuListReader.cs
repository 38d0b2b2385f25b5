using System.Globalization;

namespace AunceSearch.Training.Data;

/// <summary>A data file is malformed; the message names the file (and line) and what is wrong.</summary>
public sealed class DataFormatException(string message) : Exception(message);

/// <summary>One split of one fold: image paths (absolute), their 0/1 AU labels and subject ids.</summary>
public sealed record AuSplit(IReadOnlyList<string> ImagePaths, float[,] Labels, IReadOnlyList<string> Subjects, IReadOnlyList<string> AuNames)
{
    public int Count => ImagePaths.Count;

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
    public static AuSplit Read(string root, string listName, string split, int fold, IReadOnlyList<string>? auNames = null)
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
        var lineNo = 0;
        foreach (var raw in File.ReadLines(pathFile))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var rel = line.Replace('\\', '/');
            if (Path.IsPathRooted(rel) || rel.Split('/').Contains(".."))
            {
                throw new DataFormatException($"{pathFile}:{lineNo}: image path '{line}' must be relative to {imageDir} without '..'");
            }

            paths.Add(Path.Combine(imageDir, rel));
            subjects.Add(rel.Split('/')[0]);
        }

        var rows = new List<float[]>();
        lineNo = 0;
        foreach (var raw in File.ReadLines(labelFile))
        {
            lineNo++;
            var cols = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (cols.Length == 0)
            {
                continue;
            }

            if (cols.Length != names.Count)
            {
                throw new DataFormatException(
                    $"{labelFile}:{lineNo}: expected {names.Count} label columns ({string.Join(" ", names)}), found {cols.Length}");
            }

            var row = new float[cols.Length];
            for (var c = 0; c < cols.Length; c++)
            {
                if (!double.TryParse(cols[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || (v != 0 && v != 1))
                {
                    throw new DataFormatException($"{labelFile}:{lineNo}: column {c + 1} ({names[c]}) is '{cols[c]}'; labels must be 0 or 1");
                }

                row[c] = (float)v;
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

        var labels = new float[rows.Count, names.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            for (var c = 0; c < names.Count; c++)
            {
                labels[i, c] = rows[i][c];
            }
        }

        return new AuSplit(paths, labels, subjects, names);
    }
}
