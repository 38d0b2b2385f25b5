using AunceSearch.Model;
using AunceSearch.Training.Data;

namespace AunceSearch.Training.Tests;

/// <summary>
/// The process-wide decoded-image store: one copy of each image whatever the fold, one budget for the process, images of
/// closed folds kept for reuse and evicted only for room. Each test uses a store of its own (exact counts), except the last,
/// which checks that the trainer's folds share the process's store.
/// </summary>
public sealed class DecodedImageStoreTests
{
    private const int Size = 20;
    private const long ImageBytes = 3L * Size * Size;

    private static readonly Lazy<(string Root, string[] Images)> Dataset = new(() =>
    {
        var root = Path.Combine(TestPaths.TempDirectory(), "syn");
        SyntheticAuFaces.Generate(root, new SyntheticOptions { Subjects = 6, ImagesPerSubject = 5, ImageSize = 24, Folds = 3, OccurrenceRates = [0.3, 0.5] });
        return (root, Directory.GetFiles(root, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray());
    });

    private static string Origin(int row) => $"list.txt:{row + 1}";

    /// <summary>The images of one dataset in the order a fold lists them (its train split, then its test split).</summary>
    private static string[] FoldOrder(int fold) =>
        [.. Dataset.Value.Images.Where((_, i) => i % 3 != fold - 1), .. Dataset.Value.Images.Where((_, i) => i % 3 == fold - 1)];

    [Fact]
    public void Three_folds_decode_each_image_once_and_hold_one_copy()
    {
        var store = new DecodedImageStore { BudgetBytes = 1L << 30 };
        var images = Dataset.Value.Images;
        using var f1 = store.Hold(FoldOrder(1), Size, Origin, 2, false, false)!;
        using var f2 = store.Hold(FoldOrder(2), Size, Origin, 2, false, false)!;
        using var f3 = store.Hold(FoldOrder(3), Size, Origin, 2, false, false)!;
        Assert.Equal(images.Length, store.Decoded);
        Assert.Equal(images.Length, store.Count);
        Assert.Equal(images.Length * ImageBytes, store.Bytes);

        // The same image is the same array in every fold.
        var first = FoldOrder(1).Select((p, i) => (p, i)).ToDictionary(x => x.p, x => f1.Rows[x.i]);
        Assert.All(FoldOrder(3).Select((p, i) => (p, i)), x => Assert.Same(first[x.p], f3.Rows[x.i]));
        Assert.Equal(images.Length, FoldOrder(2).Select((_, i) => f2.Rows[i]).Distinct().Count());
    }

    [Fact]
    public void Images_of_closed_folds_stay_for_reuse_until_another_dataset_needs_their_room()
    {
        var images = Dataset.Value.Images;
        var a = images[..10];
        var b = images[10..20];
        var store = new DecodedImageStore { BudgetBytes = 15 * ImageBytes };   // room for one of the two, not both
        var leaseA = store.Hold(a, Size, Origin, 2, false, false)!;
        Assert.Null(store.Hold(b, Size, Origin, 2, false, false));   // A is in use: B cannot fit, so it would stream
        leaseA.Dispose();

        using (store.Hold(a, Size, Origin, 2, false, false)!)
        {
            Assert.Equal(10, store.Decoded);   // closed, not forgotten: nothing decoded again
        }

        using var leaseB = store.Hold(b, Size, Origin, 2, false, false)!;   // A is idle now: evicted for B
        Assert.Equal(20, store.Decoded);
        Assert.True(store.Bytes <= store.BudgetBytes, $"{store.Bytes} bytes held, budget {store.BudgetBytes}");
        Assert.All(b, p => Assert.True(store.Contains(p, Size)));
        Assert.True(a.Count(p => store.Contains(p, Size)) <= 5);

        // cache: memory goes over the budget rather than stream.
        using var forced = store.Hold(a, Size, Origin, 2, false, force: true)!;
        Assert.True(store.Bytes > store.BudgetBytes);
    }

    [Fact]
    public void A_bad_image_fails_with_its_list_line_or_is_left_out_with_skip_bad()
    {
        var dir = TestPaths.TempDirectory();
        var good = Dataset.Value.Images[..3];
        var corrupt = Path.Combine(dir, "corrupt.png");
        File.WriteAllText(corrupt, "not a png");
        string[] paths = [good[0], corrupt, good[1], good[2]];

        var store = new DecodedImageStore { BudgetBytes = 1L << 30 };
        var e = Assert.Throws<DataFormatException>(() => store.Hold(paths, Size, Origin, 2, skipBad: false, force: false));
        Assert.StartsWith("list.txt:2: cannot decode image " + corrupt, e.Message);
        Assert.Equal(3 * ImageBytes, store.Bytes);   // the good images; the bad one is neither counted nor kept
        Assert.False(store.Contains(corrupt, Size));

        using var lease = store.Hold(paths, Size, Origin, 2, skipBad: true, force: false)!;
        Assert.Null(lease.Rows[1]);
        Assert.All(new[] { 0, 2, 3 }, i => Assert.NotNull(lease.Rows[i]));
        Assert.StartsWith("list.txt:2: cannot decode image", Assert.Single(lease.Failures).Value);

        // Mended, it decodes the next time a fold asks for it.
        File.Copy(good[0], corrupt, overwrite: true);
        using var mended = store.Hold(paths, Size, Origin, 2, skipBad: false, force: false)!;
        Assert.Equal(mended.Rows[0], mended.Rows[1]);
    }

    [Fact]
    public void A_file_listed_twice_is_one_image()
    {
        var store = new DecodedImageStore { BudgetBytes = 1L << 30 };
        var images = Dataset.Value.Images;
        using var lease = store.Hold([images[0], images[1], images[0]], Size, Origin, 2, false, false)!;
        Assert.Same(lease.Rows[0], lease.Rows[2]);
        Assert.Equal((2, 2 * ImageBytes), (store.Count, store.Bytes));
    }

    [Fact]
    public void Folds_opening_at_once_decode_each_image_once()
    {
        var store = new DecodedImageStore { BudgetBytes = 1L << 30 };
        var leases = new ImageLease?[4];
        Parallel.For(0, leases.Length, i => leases[i] = store.Hold(FoldOrder((i % 3) + 1), Size, Origin, 1, false, false));
        Assert.All(leases, Assert.NotNull);
        Assert.Equal(Dataset.Value.Images.Length, store.Decoded);
        foreach (var l in leases)
        {
            l!.Dispose();
        }
    }

    [Fact]
    public void The_trainers_folds_share_one_open_instance_and_the_processes_images()
    {
        var root = Dataset.Value.Root;
        DatasetSource Fold(int fold) => new() { Root = root, ListName = "SYN", Fold = fold, ImageSize = 22, Cache = DataCacheMode.Memory };
        using var a = AuFoldData.Open(Fold(1));
        using var b = AuFoldData.Open(Fold(1));
        Assert.Same(a.Data, b.Data);   // a second trial of the same fold: the lists are read once
        using var c = AuFoldData.Open(Fold(2));
        Assert.NotSame(a.Data, c.Data);
        Assert.True(a.Data.TrainImages.InMemory && c.Data.TrainImages.InMemory);

        // Every image of both folds is in the process's store once, at the fold's size.
        Assert.All(Dataset.Value.Images, p => Assert.True(DecodedImageStore.Shared.Contains(p, 22), p));
        b.Dispose();
        b.Dispose();   // disposing twice closes once
        using var d = AuFoldData.Open(Fold(1));
        Assert.Same(a.Data, d.Data);
    }
}
