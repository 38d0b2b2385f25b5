using AunceSearch.Model;
using AunceSearch.Training.Data;
using SkiaSharp;

namespace AunceSearch.Training.Tests;

/// <summary>The generic table layout, subject-exclusive splits, skip-and-count, and the streaming loader.</summary>
public class DataLayoutTests
{
    private static readonly string[] Bp4dSubjects = ["F001", "M011", "F007", "M007", "F003", "F015"];   // two per published part

    /// <summary>Writes a solid-colour PNG per row and a label table; returns the root.</summary>
    private static string MakeTable(string header, IEnumerable<string> rows, Func<string, bool>? writeImage = null)
    {
        var root = TestPaths.TempDirectory();
        var lines = rows.ToList();
        var shade = 0;
        foreach (var row in lines)
        {
            var path = row.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0];
            if (writeImage is not null && !writeImage(path))
            {
                continue;
            }

            var file = Path.Combine(root, "img", path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            using var bitmap = new SKBitmap(20, 20, SKColorType.Rgba8888, SKAlphaType.Premul);
            bitmap.Erase(new SKColor((byte)(shade * 7 % 256), (byte)(shade * 13 % 256), (byte)(shade * 29 % 256)));
            shade++;
            using var stream = File.Create(file);
            bitmap.Encode(stream, SKEncodedImageFormat.Png, 100);
        }

        File.WriteAllLines(Path.Combine(root, "labels.csv"), header.Length == 0 ? lines : [header, .. lines]);
        return root;
    }

    private static IEnumerable<string> Rows(IEnumerable<string> subjects, int perSubject = 2) =>
        subjects.SelectMany(s => Enumerable.Range(0, perSubject).Select(i => $"{s}/T1/{i}.png,{s},{i % 2},{(i + 1) % 2},1"));

    private static DatasetSource Table(string root, FoldSplit split, int fold = 1, IReadOnlyList<string>? aus = null, bool skipBad = false, DataCacheMode cache = DataCacheMode.Memory) => new()
    {
        Format = DatasetFormat.Table,
        Root = root,
        Fold = fold,
        ImageSize = 16,
        Labels = "labels.csv",
        Images = "img",
        AuNames = aus?.ToArray(),
        Split = split.Kind switch
        {
            FoldSplitKind.Parts => DatasetSplit.Parts,
            FoldSplitKind.Subjects => DatasetSplit.Subjects,
            _ => DatasetSplit.Lists,
        },
        Parts = [.. split.Parts.Select(p => p.ToArray())],
        SplitFolds = split.Folds,
        FoldLists = split.ListPattern,
        SkipBad = skipBad,
        Cache = cache,
    };

    [Fact]
    public void Published_parts_have_the_documented_subjects()
    {
        Assert.Equal([14, 14, 13], FoldSplit.Bp4dParts.Select(p => p.Count));
        Assert.Equal(41, FoldSplit.Bp4dParts.SelectMany(p => p).Distinct().Count());
        Assert.Equal([9, 9, 9], FoldSplit.DisfaParts.Select(p => p.Count));
        Assert.Equal(27, FoldSplit.DisfaParts.SelectMany(p => p).Distinct().Count());
        Assert.Equal(2, FoldSplit.TestPart(1, 3));   // fold 1 tests part 3
        Assert.Equal(0, FoldSplit.TestPart(3, 3));   // fold 3 tests part 1
    }

    [Theory]
    [InlineData(1, new[] { "F007", "F015" })]
    [InlineData(2, new[] { "M011", "F003" })]
    [InlineData(3, new[] { "F001", "M007" })]
    public void Table_with_the_published_BP4D_parts_tests_on_the_documented_part(int fold, string[] testSubjects)
    {
        var root = MakeTable("path,subject,AU1,AU2,AU4", Rows(Bp4dSubjects));
        var (train, test) = AuFoldData.ReadSplits(Table(root, new FoldSplit { Kind = FoldSplitKind.Parts, Parts = FoldSplit.Bp4dParts }, fold));
        Assert.Equal(["AU1", "AU2", "AU4"], train.AuNames);
        Assert.Equal(testSubjects.Order(), test.Subjects.Distinct().Order());
        Assert.Equal(8, train.Count);
        Assert.Equal(4, test.Count);
        Assert.Empty(train.Subjects.Intersect(test.Subjects));
        Assert.Equal(fold == 3 ? "labels.csv:4" : "labels.csv:2", train.Origin(0));   // fold 3 tests F001 (row 2)
    }

    [Fact]
    public void Spec_AU_names_select_and_order_table_columns_by_name()
    {
        var root = MakeTable("path,subject,AU1,AU2,AU4", Rows(Bp4dSubjects));
        var (train, _) = AuFoldData.ReadSplits(Table(root, new FoldSplit { Kind = FoldSplitKind.Parts, Parts = FoldSplit.Bp4dParts }, aus: ["AU4", "AU1"]));
        Assert.Equal(["AU4", "AU1"], train.AuNames);
        Assert.Equal(1f, train.Labels[0, 0]);    // AU4 is 1 on every row
        var e = Assert.Throws<DataFormatException>(() => AuFoldData.ReadSplits(Table(root, new FoldSplit { Kind = FoldSplitKind.Subjects }, aus: ["AU9"])));
        Assert.Contains("labels.csv:1", e.Message);
        Assert.Contains("no column 'AU9'", e.Message);
    }

    [Fact]
    public void A_table_without_header_needs_AU_names_and_then_reads_them_in_order()
    {
        var rows = new[] { "A/0.png 0 1", "A/1.png 1 1", "B/0.png 0 0", "C/0.png 1 0" };
        var root = MakeTable("", rows);
        var e = Assert.Throws<DataFormatException>(() => AuTableReader.ReadTable(Table(root, new FoldSplit())));
        Assert.Contains("labels.csv:1", e.Message);
        Assert.Contains("no header", e.Message);
        var all = AuTableReader.ReadTable(Table(root, new FoldSplit(), aus: ["AU6", "AU12"]));
        Assert.Equal(4, all.Count);
        Assert.Equal(["A", "A", "B", "C"], all.Subjects);
        Assert.Equal(1f, all.Labels[0, 1]);
    }

    [Fact]
    public void A_subject_outside_every_part_is_an_error_naming_the_row()
    {
        var root = MakeTable("path,subject,AU1,AU2,AU4", Rows([.. Bp4dSubjects, "X999"], 1));
        var e = Assert.Throws<DataFormatException>(() => AuFoldData.ReadSplits(Table(root, new FoldSplit { Kind = FoldSplitKind.Parts, Parts = FoldSplit.Bp4dParts })));
        Assert.Contains("labels.csv:8", e.Message);
        Assert.Contains("X999", e.Message);
    }

    [Fact]
    public void Round_robin_subject_split_is_deterministic_and_exclusive()
    {
        string[] subjects = ["s1", "s2", "s3", "s4", "s5", "s6", "s7"];
        var root = MakeTable("path,AU1,AU2,AU4", subjects.Select(s => $"{s}/0.png,1,0,1"));
        var seen = new List<string>();
        for (var fold = 1; fold <= 3; fold++)
        {
            var (train, test) = AuFoldData.ReadSplits(Table(root, new FoldSplit { Kind = FoldSplitKind.Subjects, Folds = 3 }, fold));
            Assert.Empty(train.Subjects.Intersect(test.Subjects));
            Assert.Equal(7, train.Count + test.Count);
            seen.AddRange(test.Subjects);
        }

        Assert.Equal(subjects, seen.Order());   // every subject is tested exactly once
        var (_, t1) = AuFoldData.ReadSplits(Table(root, new FoldSplit { Kind = FoldSplitKind.Subjects, Folds = 3 }, 1));
        Assert.Equal(["s3", "s6"], t1.Subjects);   // sorted s1..s7 dealt into parts {1,4,7},{2,5},{3,6}; fold 1 tests part 3
        var e = Assert.Throws<DataFormatException>(() => AuFoldData.ReadSplits(Table(root, new FoldSplit { Kind = FoldSplitKind.Subjects, Folds = 3 }, 4)));
        Assert.Contains("fold 4 does not exist", e.Message);
    }

    [Fact]
    public void Fold_list_files_select_images_or_whole_subjects_and_unknown_entries_name_the_line()
    {
        var root = MakeTable("path,subject,AU1,AU2,AU4", Rows(["A", "B", "C"]));
        Directory.CreateDirectory(Path.Combine(root, "folds"));
        File.WriteAllText(Path.Combine(root, "folds", "train_fold1.txt"), "# train\nA\nB/T1/0.png\n");
        File.WriteAllText(Path.Combine(root, "folds", "test_fold1.txt"), "C\n");
        var split = new FoldSplit { Kind = FoldSplitKind.Lists, ListPattern = "folds/{split}_fold{fold}.txt" };
        var (train, test) = AuFoldData.ReadSplits(Table(root, split));
        Assert.Equal(3, train.Count);
        Assert.Equal(["C", "C"], test.Subjects);

        File.WriteAllText(Path.Combine(root, "folds", "test_fold1.txt"), "C\nZ/9.png\n");
        var e = Assert.Throws<DataFormatException>(() => AuFoldData.ReadSplits(Table(root, split)));
        Assert.Contains("test_fold1.txt:2", e.Message);
        Assert.Contains("Z/9.png", e.Message);

        File.WriteAllText(Path.Combine(root, "folds", "test_fold1.txt"), "A\n");
        var overlap = Assert.Throws<DataFormatException>(() => AuFoldData.ReadSplits(Table(root, split)));
        Assert.Contains("not subject-exclusive", overlap.Message);
    }

    [Fact]
    public void Bad_rows_fail_with_file_and_line_or_are_skipped_and_counted_on_request()
    {
        var rows = Rows(["A", "B", "C"]).ToList();
        rows.Insert(2, "A/T1/9.png,A,1,x,0");          // a label that is not 0/1 (line 4)
        rows.Add("C/T1/7.png,C,1,0");                   // a column short (line 9)
        var root = MakeTable("path,subject,AU1,AU2,AU4", rows, p => !p.Contains('9') && !p.Contains('7'));
        var split = new FoldSplit { Kind = FoldSplitKind.Subjects, Folds = 3 };
        var e = Assert.Throws<DataFormatException>(() => AuFoldData.ReadSplits(Table(root, split)));
        Assert.Contains("labels.csv:4", e.Message);
        Assert.Contains("AU2", e.Message);

        var (train, test) = AuFoldData.ReadSplits(Table(root, split, skipBad: true));
        Assert.Equal(6, train.Count + test.Count);
        Assert.Equal(2, train.Skipped.Count + test.Skipped.Count);
        Assert.Contains(train.Skipped, s => s.StartsWith("labels.csv:9:", StringComparison.Ordinal) && s.Contains("expected 5 columns"));
    }

    [Theory]
    [InlineData(DataCacheMode.Memory)]
    [InlineData(DataCacheMode.Stream)]
    public void Missing_and_corrupt_images_fail_with_the_row_or_are_skipped_and_counted(DataCacheMode cache)
    {
        var root = MakeTable("path,subject,AU1,AU2,AU4", Rows(["A", "B", "C"], 3));
        File.WriteAllText(Path.Combine(root, "img", "A", "T1", "1.png"), "not a png");     // corrupt (labels.csv:3)
        File.Delete(Path.Combine(root, "img", "B", "T1", "2.png"));                       // missing (labels.csv:7)
        var split = new FoldSplit { Kind = FoldSplitKind.Parts, Parts = [["A", "C"], ["B"]] };   // fold 1 trains on A, C

        var e = Assert.ThrowsAny<DataFormatException>(() =>
        {
            using var lease = AuFoldData.Open(Table(root, split, 1, cache: cache) with { ImageSize = 17 });   // memory: fails here
            var strict = lease.Data;
            foreach (var b in strict.TrainImages.Batches([.. Enumerable.Range(0, (int)strict.TrainImages.Count).Select(i => (long)i)], 4, CancellationToken.None))
            {
                b.Images.Dispose();
                b.Labels.Dispose();
            }
        });
        Assert.Contains("labels.csv:3", e.Message);
        Assert.Contains("cannot decode", e.Message);
    }

    [Theory]
    [InlineData(DataCacheMode.Memory)]
    [InlineData(DataCacheMode.Stream)]
    public void Skipped_images_are_left_out_of_batches_and_counted(DataCacheMode cache)
    {
        var root = MakeTable("path,subject,AU1,AU2,AU4", Rows(["A", "B", "C"], 3));
        File.WriteAllText(Path.Combine(root, "img", "A", "T1", "1.png"), "not a png");
        File.Delete(Path.Combine(root, "img", "B", "T1", "2.png"));
        using var lease = AuFoldData.Open(Table(root, new FoldSplit { Kind = FoldSplitKind.Parts, Parts = [["A", "B"], ["C"]] }, 1, skipBad: true, cache: cache) with { ImageSize = 18 });
        var data = lease.Data;
        var order = Enumerable.Range(0, (int)data.TrainImages.Count).Select(i => (long)i).ToArray();
        var rows = 0;
        foreach (var b in data.TrainImages.Batches(order, 2, CancellationToken.None))
        {
            Assert.Equal(b.Indices.Length, b.Images.shape[0]);
            Assert.Equal(b.Indices.Length, b.Labels.shape[0]);
            rows += b.Indices.Length;
            b.Images.Dispose();
            b.Labels.Dispose();
        }

        Assert.Equal(4, rows);                 // 6 training rows, one corrupt, one missing
        Assert.Equal(2, data.Skipped.Count);
        Assert.Contains(data.Skipped, s => s.StartsWith("labels.csv:3:", StringComparison.Ordinal));
        Assert.Contains(data.Skipped, s => s.StartsWith("labels.csv:7:", StringComparison.Ordinal) && s.Contains("not found"));
    }

    [Fact]
    public void Streamed_batches_equal_in_memory_batches_and_stopping_early_does_not_hang()
    {
        var root = MakeTable("path,subject,AU1,AU2,AU4", Rows(["A", "B", "C", "D"], 5));
        var split = new FoldSplit { Kind = FoldSplitKind.Subjects, Folds = 2 };
        using var memoryLease = AuFoldData.Open(Table(root, split, cache: DataCacheMode.Memory) with { ImageSize = 19 });
        using var streamLease = AuFoldData.Open(Table(root, split, cache: DataCacheMode.Stream) with { ImageSize = 19, Prefetch = 1, Workers = 2 });
        var (memory, stream) = (memoryLease.Data, streamLease.Data);
        Assert.True(memory.TrainImages.InMemory);
        Assert.False(stream.TrainImages.InMemory);
        long[] order = [7, 3, 9, 0, 1, 8, 2];
        var a = memory.TrainImages.Batches(order, 3, CancellationToken.None).ToList();
        var b = stream.TrainImages.Batches(order, 3, CancellationToken.None).ToList();
        Assert.Equal(a.Select(x => x.Indices), b.Select(x => x.Indices));
        for (var i = 0; i < a.Count; i++)
        {
            Assert.True(a[i].Images.eq(b[i].Images).all().item<bool>());
            Assert.True(a[i].Labels.eq(b[i].Labels).all().item<bool>());
        }

        var first = stream.TrainImages.Batches([.. Enumerable.Range(0, 10).Select(i => (long)i)], 1, CancellationToken.None).First();
        Assert.Single(first.Indices);
    }

    [Fact]
    public void Auto_cache_streams_when_the_decoded_fold_exceeds_the_memory_budget()
    {
        var root = MakeTable("path,subject,AU1,AU2,AU4", Rows(["A", "B"], 2));
        var budget = DecodedImageStore.Shared.BudgetBytes;
        try
        {
            DecodedImageStore.Shared.BudgetBytes = 100;
            using var lease = AuFoldData.Open(Table(root, new FoldSplit { Kind = FoldSplitKind.Subjects, Folds = 2 }, cache: DataCacheMode.Auto) with { ImageSize = 21 });
            Assert.False(lease.Data.TrainImages.InMemory);
        }
        finally
        {
            DecodedImageStore.Shared.BudgetBytes = budget;
        }
    }
}
