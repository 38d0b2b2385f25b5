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
        var e = Assert.Throws<DataFormatException>(() => AuFoldData.Load(new DatasetSource { Root = root, ListName = "X", Fold = 1, ImageSize = 16, AuNames = ["AU1"], Cache = DataCache.Memory }));
        Assert.Contains("X_train_img_path_fold1.txt:1", e.Message);
        Assert.Contains("not found", e.Message);
    }
}
