
namespace AunceSearch.Training.Data;

/// <summary>
/// The generic layout for datasets without AUNCE list files (GFT, Aff-Wild2, your own): one label table under the root,
/// comma- or whitespace-separated, one row per image. With a header, the column named <c>path</c> (or <c>image</c>,
/// <c>file</c>; else the first) holds the image path relative to the images folder, an optional <c>subject</c> column the
/// subject id (else the path's first folder), and every other column is an AU with 0/1 values; AU names given by the caller
/// select and order columns by name. Without a header the caller must give the AU names: path, then one column per AU.
/// Folds come from a <see cref="FoldSplit"/>: subject parts (the published BP4D/DISFA ones or your own), round-robin over
/// sorted subjects, or per-fold list files.
/// </summary>
public static class AuTableReader
{
    private static readonly string[] PathColumns = ["path", "image", "file", "img", "image_path"];
    private static readonly string[] SubjectColumns = ["subject", "subject_id", "video", "sequence"];

    /// <summary>Reads the whole table (every image of every subject).</summary>
    public static AuSplit ReadTable(DatasetSource s)
    {
        if (!Directory.Exists(s.Root))
        {
            throw new DataFormatException($"{s.Root}: dataset root does not exist");
        }

        var file = Path.Combine(s.Root, s.Labels);
        if (!File.Exists(file))
        {
            throw new DataFormatException($"{file}: label table not found (dataset.labels)");
        }

        var imageDir = Path.Combine(s.Root, s.Images);
        var name = Path.GetFileName(file);
        var lines = File.ReadAllLines(file);
        var first = Array.FindIndex(lines, l => l.Trim().Length > 0);
        if (first < 0)
        {
            throw new DataFormatException($"{file}: the label table is empty");
        }

        var comma = lines[first].Contains(',', StringComparison.Ordinal);
        string[] Cells(string line) => comma
            ? [.. line.Split(',').Select(c => c.Trim())]
            : line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

        var head = Cells(lines[first]);
        var hasHeader = head.Skip(1).Any(c => !double.TryParse(c, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _));
        int pathCol, subjectCol = -1;
        int[] auCols;
        IReadOnlyList<string> names;
        if (hasHeader)
        {
            var lower = head.Select(h => h.ToLowerInvariant()).ToArray();
            pathCol = Math.Max(0, Array.FindIndex(lower, PathColumns.Contains));
            subjectCol = Array.FindIndex(lower, SubjectColumns.Contains);
            var available = Enumerable.Range(0, head.Length).Where(i => i != pathCol && i != subjectCol).ToArray();
            if (s.AuNames is { } wanted)
            {
                auCols = [.. wanted.Select(w =>
                {
                    var i = Array.FindIndex(head, h => string.Equals(h, w, StringComparison.OrdinalIgnoreCase));
                    return i >= 0 && available.Contains(i)
                        ? i
                        : throw new DataFormatException($"{file}:{first + 1}: the header has no column '{w}' (dataset.aus); columns: {string.Join(", ", available.Select(a => head[a]))}");
                })];
                names = wanted;
            }
            else
            {
                auCols = available;
                names = [.. available.Select(i => head[i])];
            }

            if (auCols.Length == 0)
            {
                throw new DataFormatException($"{file}:{first + 1}: the header names no AU columns");
            }

            var duplicate = names.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
            {
                throw new DataFormatException($"{file}:{first + 1}: AU column '{duplicate.Key}' appears more than once");
            }
        }
        else
        {
            names = s.AuNames ?? throw new DataFormatException(
                $"{file}:{first + 1}: the table has no header; name its AU columns in a header line or in the spec (dataset.aus)");
            pathCol = 0;
            auCols = [.. Enumerable.Range(1, names.Count)];
        }

        var paths = new List<string>();
        var subjects = new List<string>();
        var rows = new List<float[]>();
        var origins = new List<string>();
        var skipped = new List<string>();
        var columns = hasHeader ? head.Length : 1 + names.Count;
        for (var n = hasHeader ? first + 1 : first; n < lines.Length; n++)
        {
            if (lines[n].Trim().Length == 0)
            {
                continue;
            }

            var cells = Cells(lines[n]);
            var where = $"{name}:{n + 1}";
            string? problem = null;
            float[] row = [];
            string rel = "";
            if (cells.Length != columns)
            {
                problem = $"expected {columns} columns, found {cells.Length}";
            }
            else
            {
                rel = cells[pathCol].Replace('\\', '/');
                if (rel.Length == 0 || Path.IsPathRooted(rel) || rel.Split('/').Contains(".."))
                {
                    problem = $"image path '{cells[pathCol]}' must be relative to {imageDir} without '..'";
                }
                else
                {
                    problem = AuListReader.ParseRow([.. auCols.Select(c => cells[c])], names, out row);
                }
            }

            if (problem is not null)
            {
                if (!s.SkipBad)
                {
                    throw new DataFormatException($"{file}:{n + 1}: {problem}");
                }

                skipped.Add($"{where}: {problem}");
                continue;
            }

            paths.Add(Path.Combine(imageDir, rel));
            subjects.Add(subjectCol >= 0 ? cells[subjectCol] : rel.Split('/')[0]);
            rows.Add(row);
            origins.Add(where);
        }

        if (paths.Count == 0)
        {
            throw new DataFormatException($"{file}: no usable rows");
        }

        return AuSplit.FromRows(paths, rows, subjects, names, origins, skipped);
    }

    /// <summary>Reads fold <see cref="DatasetSource.Fold"/> of a table dataset: (train, test).</summary>
    public static (AuSplit Train, AuSplit Test) ReadFold(DatasetSource s)
    {
        var all = ReadTable(s);
        var (train, test) = Assign(all, s);
        var none = new HashSet<int>();
        // The table's skipped rows are reported once, with the training side.
        return (
            AuListReader.DropMissing(all.Subset(train, []), none, s.SkipBad),
            AuListReader.DropMissing(all.Subset(test, []) with { Skipped = [] }, none, s.SkipBad));
    }

    /// <summary>Row indices of the fold's train and test sides.</summary>
    public static (List<int> Train, List<int> Test) Assign(AuSplit all, DatasetSource s)
    {
        var split = s.FoldSplit;
        if (split.Kind == FoldSplitKind.Lists)
        {
            return (FromList(all, s, "train"), FromList(all, s, "test"));
        }

        var parts = split.Kind == FoldSplitKind.Parts
            ? split.Parts
            : [.. all.Subjects.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
                .Select((subject, i) => (subject, i)).GroupBy(x => x.i % split.Folds).OrderBy(g => g.Key)
                .Select(g => (IReadOnlyList<string>)[.. g.Select(x => x.subject)])];
        if (parts.Count < 2)
        {
            throw new DataFormatException($"{s.Root}: a subject split needs at least 2 parts ({parts.Count} found: {all.Subjects.Distinct().Count()} subject(s))");
        }

        if (s.Fold < 1 || s.Fold > parts.Count)
        {
            throw new DataFormatException($"{s.Root}: fold {s.Fold} does not exist; the split has {parts.Count} parts (folds 1..{parts.Count})");
        }

        var partOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var p = 0; p < parts.Count; p++)
        {
            foreach (var subject in parts[p])
            {
                if (!partOf.TryAdd(subject, p))
                {
                    throw new DataFormatException($"dataset.split: subject {subject} is in part {partOf[subject] + 1} and part {p + 1}");
                }
            }
        }

        var testPart = FoldSplit.TestPart(s.Fold, parts.Count);
        var train = new List<int>();
        var test = new List<int>();
        for (var i = 0; i < all.Count; i++)
        {
            if (!partOf.TryGetValue(all.Subjects[i], out var p))
            {
                throw new DataFormatException(
                    $"{all.Origin(i)}: subject '{all.Subjects[i]}' is in none of the split's parts (a subject-exclusive split must place every subject)");
            }

            (p == testPart ? test : train).Add(i);
        }

        if (train.Count == 0 || test.Count == 0)
        {
            throw new DataFormatException($"{s.Root}: fold {s.Fold} has {train.Count} training and {test.Count} test images; both sides need images");
        }

        return (train, test);
    }

    private static List<int> FromList(AuSplit all, DatasetSource s, string side)
    {
        var pattern = s.FoldSplit.ListPattern ?? throw new DataFormatException("dataset.split: a list split of a table dataset needs a list pattern (dataset.split.lists)");
        var file = Path.Combine(s.Root, pattern.Replace("{split}", side, StringComparison.Ordinal).Replace("{fold}", s.Fold.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        if (!File.Exists(file))
        {
            throw new DataFormatException($"{file}: fold list not found (dataset.split.lists = {pattern})");
        }

        var imageDir = Path.Combine(s.Root, s.Images);
        var byPath = new Dictionary<string, int>(StringComparer.Ordinal);
        var bySubject = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < all.Count; i++)
        {
            byPath.TryAdd(Path.GetRelativePath(imageDir, all.ImagePaths[i]).Replace('\\', '/'), i);
            if (!bySubject.TryGetValue(all.Subjects[i], out var list))
            {
                bySubject[all.Subjects[i]] = list = [];
            }

            list.Add(i);
        }

        var chosen = new SortedSet<int>();
        var n = 0;
        foreach (var raw in File.ReadLines(file))
        {
            n++;
            var entry = raw.Trim().Replace('\\', '/');
            if (entry.Length == 0 || entry.StartsWith('#'))
            {
                continue;
            }

            if (byPath.TryGetValue(entry, out var i))
            {
                chosen.Add(i);
            }
            else if (bySubject.TryGetValue(entry, out var rows))
            {
                chosen.UnionWith(rows);
            }
            else
            {
                throw new DataFormatException($"{file}:{n}: '{entry}' is neither an image nor a subject of {s.Labels}");
            }
        }

        return chosen.Count > 0 ? [.. chosen] : throw new DataFormatException($"{file}: the fold list selects no images");
    }
}
