using AunceSearch.Model;
using AunceSearch.Training.Data;

namespace AunceSearch.Training.Tests;

public class DataTests
{
    private static string MakeList(string root, string labelText, string pathText = "S001/0000.png\nS001/0001.png\n")
    {
        Directory.CreateDirectory(Path.Combine(root, "list"));
        Directory.CreateDirectory(Path.Combine(root, "img"));
        File.WriteAllText(Path.Combine(root, "list", "X_train_img_path_fold1.txt"), pathText);
        File.WriteAllText(Path.Combine(root, "list", "X_train_label_fold1.txt"), labelText);
        return root;
    }

    [Fact]
    public void Synthetic_dataset_round_trips_through_the_list_reader_subject_exclusively()
    {
        var root = Path.Combine(TestPaths.TempDirectory(), "syn");
        var options = new SyntheticOptions { Subjects = 6, ImagesPerSubject = 5, ImageSize = 32, Folds = 3, OccurrenceRates = [0.2, 0.5, 0.8] };
        SyntheticAuFaces.Generate(root, options);
        Assert.True(SyntheticAuFaces.Exists(root, "SYN", 3));
        for (var fold = 1; fold <= 3; fold++)
        {
            var train = AuListReader.Read(root, "SYN", "train", fold);
            var test = AuListReader.Read(root, "SYN", "test", fold);
            Assert.Equal(["AU1", "AU2", "AU4"], train.AuNames);
            Assert.Equal(20, train.Count);
            Assert.Equal(10, test.Count);
            Assert.Empty(train.Subjects.Intersect(test.Subjects));
            Assert.All(train.ImagePaths, p => Assert.True(File.Exists(p), p));
        }
    }

    [Fact]
    public void Synthetic_generation_refuses_a_non_empty_directory_and_leaves_it_untouched()
    {
        var root = TestPaths.TempDirectory();
        File.WriteAllText(Path.Combine(root, "keep.txt"), "mine");
        var e = Assert.Throws<IOException>(() => SyntheticAuFaces.Generate(root, new SyntheticOptions { Subjects = 3, ImagesPerSubject = 1 }));
        Assert.Contains("non-empty", e.Message);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(root, "keep.txt")));
        Assert.Single(Directory.EnumerateFileSystemEntries(root));
    }

    [Fact]
    public void Occurrence_rates_of_a_large_synthetic_set_follow_the_requested_imbalance()
    {
        var root = Path.Combine(TestPaths.TempDirectory(), "syn");
        SyntheticAuFaces.Generate(root, new SyntheticOptions { Subjects = 4, ImagesPerSubject = 150, ImageSize = 32, Folds = 2, LabelNoise = 0, OccurrenceRates = [0.1, 0.6] });
        var train = AuListReader.Read(root, "SYN", "train", 1);
        var test = AuListReader.Read(root, "SYN", "test", 1);
        var rates = train.OccurrenceRates().Zip(test.OccurrenceRates(), (a, b) => (a + b) / 2).ToArray();
        Assert.InRange(rates[0], 0.06, 0.14);
        Assert.InRange(rates[1], 0.54, 0.66);
    }

    [Fact]
    public void A_label_row_with_the_wrong_column_count_names_file_and_line()
    {
        var root = MakeList(TestPaths.TempDirectory(), "0 1 0\n1 1\n");
        var e = Assert.Throws<DataFormatException>(() => AuListReader.Read(root, "X", "train", 1, ["AU1", "AU2", "AU4"]));
        Assert.Contains("X_train_label_fold1.txt:2", e.Message);
        Assert.Contains("expected 3 label columns", e.Message);
        Assert.Contains("found 2", e.Message);
    }

    [Fact]
    public void A_label_that_is_not_zero_or_one_names_file_line_and_AU()
    {
        var root = MakeList(TestPaths.TempDirectory(), "0 1\n1 x\n");
        var e = Assert.Throws<DataFormatException>(() => AuListReader.Read(root, "X", "train", 1, ["AU1", "AU2"]));
        Assert.Contains("X_train_label_fold1.txt:2", e.Message);
        Assert.Contains("AU2", e.Message);
    }

    [Fact]
    public void Row_count_mismatch_between_paths_and_labels_is_reported()
    {
        var root = MakeList(TestPaths.TempDirectory(), "0 1\n");
        var e = Assert.Throws<DataFormatException>(() => AuListReader.Read(root, "X", "train", 1, ["AU1", "AU2"]));
        Assert.Contains("1 label rows but", e.Message);
    }

    [Fact]
    public void A_missing_dataset_root_or_list_file_is_named()
    {
        var missing = Path.Combine(TestPaths.TempDirectory(), "nope");
        var e = Assert.Throws<DataFormatException>(() => AuListReader.Read(missing, "X", "train", 1, ["AU1"]));
        Assert.Contains(missing, e.Message);
        var root = MakeList(TestPaths.TempDirectory(), "0\n1\n");
        var e2 = Assert.Throws<DataFormatException>(() => AuListReader.Read(root, "X", "test", 1, ["AU1"]));
        Assert.Contains("X_test_img_path_fold1.txt", e2.Message);
    }

    [Fact]
    public void A_missing_image_names_the_list_file_and_line()
    {
        var root = MakeList(TestPaths.TempDirectory(), "0\n1\n");
        File.WriteAllText(Path.Combine(root, "list", "X_test_img_path_fold1.txt"), "S002/0000.png\n");
        File.WriteAllText(Path.Combine(root, "list", "X_test_label_fold1.txt"), "1\n");
        var e = Assert.Throws<DataFormatException>(() => AuFoldData.Open(new DatasetSource { Root = root, ListName = "X", Fold = 1, ImageSize = 16, AuNames = ["AU1"], Cache = DataCacheMode.Memory }));
        Assert.Contains("X_train_img_path_fold1.txt:1", e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Theory]
    [InlineData(DataCacheMode.Memory)]
    [InlineData(DataCacheMode.Stream)]
    public void An_image_whose_header_declares_a_huge_size_is_refused_before_its_pixels_are_allocated(DataCacheMode cache)
    {
        // A 120-byte PNG whose header says 20,000 x 20,000: decoding it would take 1.6 GB before finding the data missing.
        var root = MakeList(TestPaths.TempDirectory(), "0\n1\n");
        Directory.CreateDirectory(Path.Combine(root, "img", "S001"));
        File.WriteAllBytes(Path.Combine(root, "img", "S001", "0000.png"), PngHeader(20_000, 20_000));
        SyntheticAuFaces.Generate(Path.Combine(root, "other"), new SyntheticOptions { Subjects = 1, ImagesPerSubject = 1, ImageSize = 16, Folds = 1 });
        var good = Directory.GetFiles(Path.Combine(root, "other"), "*.png", SearchOption.AllDirectories)[0];
        File.Copy(good, Path.Combine(root, "img", "S001", "0001.png"));
        Directory.CreateDirectory(Path.Combine(root, "img", "S002"));
        File.Copy(good, Path.Combine(root, "img", "S002", "0000.png"));
        File.WriteAllText(Path.Combine(root, "list", "X_test_img_path_fold1.txt"), "S002/0000.png\n");
        File.WriteAllText(Path.Combine(root, "list", "X_test_label_fold1.txt"), "1\n");
        // Without the header check SkiaSharp takes the 1.6 GB (natively) and then reports the data missing: another message.
        var e = Assert.Throws<DataFormatException>(() =>
        {
            using var lease = AuFoldData.Open(new DatasetSource { Root = root, ListName = "X", Fold = 1, ImageSize = 16, AuNames = ["AU1"], Cache = cache });
            foreach (var b in lease.Data.TrainImages.Batches([0, 1], 2, CancellationToken.None))
            {
                b.Images.Dispose();
                b.Labels.Dispose();
            }
        });
        Assert.True(e.Message.Contains("X_train_img_path_fold1.txt:1: image ", StringComparison.Ordinal), e.Message);
        Assert.True(e.Message.Contains("is 20000x20000 (400 megapixels): images that decode to over 64 megapixels are refused before decoding", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void A_large_jpeg_decodes_scaled_down_in_the_decoder_to_the_same_picture()
    {
        // A 2048 x 1536 frame (BP4D's are 1392 x 1040) decoded to 64 px: the decoder's 1/8 scale, then a resize.
        var dir = TestPaths.TempDirectory();
        using var bitmap = new SkiaSharp.SKBitmap(2048, 1536);
        using (var canvas = new SkiaSharp.SKCanvas(bitmap))
        {
            canvas.Clear(new SkiaSharp.SKColor(40, 90, 160));
            using var paint = new SkiaSharp.SKPaint { Color = new SkiaSharp.SKColor(230, 200, 60) };
            canvas.DrawCircle(1024, 768, 500, paint);
        }

        var jpeg = Path.Combine(dir, "frame.jpg");
        var png = Path.Combine(dir, "frame.png");
        using (var f = File.Create(jpeg))
        {
            bitmap.Encode(f, SkiaSharp.SKEncodedImageFormat.Jpeg, 95);
        }

        using (var f = File.Create(png))
        {
            bitmap.Encode(f, SkiaSharp.SKEncodedImageFormat.Png, 100);
        }

        var fromJpeg = new byte[3 * 64 * 64];
        var fromPng = new byte[3 * 64 * 64];
        Assert.Null(AuImages.TryDecode(jpeg, 64, fromJpeg));
        Assert.Null(AuImages.TryDecode(png, 64, fromPng));   // PNG has no scaled decoding: the whole frame, resized
        var meanDifference = fromJpeg.Zip(fromPng, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanDifference < 4, $"mean difference {meanDifference} levels between the scaled JPEG and the resized PNG");
        Assert.True(fromJpeg.Max() > 200 && fromJpeg.Min() < 60, "the picture's two colours are there");
    }

    /// <summary>A PNG signature, an IHDR chunk declaring <paramref name="width"/> x <paramref name="height"/> (8-bit RGB), an empty IDAT and IEND.</summary>
    private static byte[] PngHeader(int width, int height)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        void Chunk(string type, byte[] data)
        {
            var header = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
            ms.Write(header);
            var body = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            ms.Write(body);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header, System.IO.Hashing.Crc32.HashToUInt32(body));
            ms.Write(header);
        }

        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;   // bit depth
        ihdr[9] = 2;   // RGB
        Chunk("IHDR", ihdr);
        Chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk("IEND", []);
        return ms.ToArray();
    }
}
