using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using AunceSearch.Model;
using AunceSearch.Training.Export;
using AunceSearch.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace AunceSearch.Training.Tests;

/// <summary>
/// Exports are read by PyTorch itself: Debian's python3-torch loads the .pt with <c>torch.load</c>, reads the
/// safetensors file, compares every tensor with the bytes TorchSharp holds (written here, by neither exporter), rebuilds
/// the encoder in PyTorch from the .pt alone — the ResNet backbone as torchvision's own resnet18 — and runs it on the
/// same input as TorchSharp (tests/tools/check_export.py).
/// </summary>
[Collection(GlobalRngCollection.Name)]
public sealed class ExportTests
{
    private static readonly string[] Aus = ["AU1", "AU2", "AU4", "AU6", "AU12"];

    private static string RepoRoot => AunceSearch.Tests.TestFixtures.RepositoryRoot;

    [Theory]
    [InlineData("small-cnn", 8, 32)]
    [InlineData("resnet18", 0, 64)]
    public void Pt_and_safetensors_exports_load_in_PyTorch_with_every_tensor_equal_and_the_same_forward_pass(string encoderName, int width, int size)
    {
        var dir = TestPaths.TempDirectory();
        torch.manual_seed(3);
        var options = new ModelOptions { Encoder = encoderName, Width = width, FeatureDim = 16, Neighbors = 3, InputSize = size };
        using var encoder = EncoderFactory.Create(options, Aus.Length);

        // Batch-norm statistics that are not the defaults (a few training-mode passes), so buffers are checked too.
        using (torch.no_grad())
        {
            encoder.train();
            for (var i = 0; i < 3; i++)
            {
                using var warm = torch.randn(6, 3, size, size);
                encoder.forward(warm).Dispose();
            }
        }

        encoder.eval();
        using var input = torch.randn(2, 3, size, size);
        Tensor output;
        using (torch.no_grad())
        {
            output = encoder.forward(input);
        }

        using var disposeOutput = output;
        var header = new CheckpointHeader
        {
            Label = "export-test/t007/f1", Epoch = 4, Seed = 11, AuNames = Aus, Model = options,
            Hyperparameters = new Dictionary<string, string> { ["lr"] = "0.001", ["temperature"] = "0.3" }, MeanF1 = 0.61,
        };
        var checkpoint = Checkpoint.Write(header, encoder, (Action<BinaryWriter>?)null);

        var pt = CheckpointExport.Export(checkpoint, "t007 f1 e4", ExportFormat.Pt, Path.Combine(dir, "encoder.pt"), new Dictionary<string, string> { ["trial"] = "7" });
        var st = CheckpointExport.Export(checkpoint, "t007 f1 e4", ExportFormat.Safetensors, Path.Combine(dir, "encoder.safetensors"));
        var native = CheckpointExport.Export(checkpoint, "t007 f1 e4", ExportFormat.Native, Path.Combine(dir, "encoder.ckpt"));
        Assert.Equal(checkpoint, File.ReadAllBytes(native.Path));
        Assert.Equal(64, pt.Sha256.Length);
        Assert.DoesNotContain(Directory.GetFiles(dir), f => f.Contains(".tmp-", StringComparison.Ordinal));

        // The expected values, straight from TorchSharp.
        Directory.CreateDirectory(Path.Combine(dir, "raw"));
        var tensors = new JsonArray();
        var k = 0;
        foreach (var (name, tensor) in encoder.state_dict())
        {
            var file = $"raw/{k++}.bin";
            tensors.Add(Raw(dir, file, tensor, name));
        }

        var manifest = new JsonObject
        {
            ["encoder"] = encoderName,
            ["au_names"] = new JsonArray([.. Aus.Select(a => (JsonNode?)a)]),
            ["feature_dim"] = 16,
            ["width"] = width,
            ["neighbors"] = 3,
            ["tensors"] = tensors,
            ["input"] = Raw(dir, "raw/input.bin", input, "input"),
            ["output"] = Raw(dir, "raw/output.bin", output, "output"),
        };
        File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());

        var result = RunPython(dir);
        Assert.Equal(tensors.Count, result["pt_tensors"]!.GetValue<int>());
        Assert.Equal(pt.Tensors, result["pt_tensors"]!.GetValue<int>());
        Assert.Equal(st.Tensors, result["safetensors_tensors"]!.GetValue<int>());
        Assert.Equal(0.0, result["max_abs_diff_pt"]!.GetValue<double>());
        Assert.Equal(0.0, result["max_abs_diff_safetensors"]!.GetValue<double>());
        Assert.True(result["forward_max_abs_diff"]!.GetValue<double>() <= 1e-4, $"PyTorch's forward pass differs from TorchSharp's by {result["forward_max_abs_diff"]}");
        foreach (var meta in new[] { result["metadata_pt"]!, result["metadata_safetensors"]! })
        {
            Assert.Equal(encoderName, meta["encoder"]!.GetValue<string>());
            Assert.Equal(Aus, JsonSerializer.Deserialize<string[]>(meta["au_names"]!.GetValue<string>()));
            Assert.Equal("0.3", JsonSerializer.Deserialize<Dictionary<string, string>>(meta["hyperparameters"]!.GetValue<string>())!["temperature"]);
            Assert.Equal("4", meta["epoch"]!.GetValue<string>());
        }

        Assert.Equal("7", result["metadata_pt"]!["trial"]!.GetValue<string>());
    }

    [Fact]
    public void A_damaged_or_weightless_checkpoint_is_refused_naming_it_and_nothing_is_written()
    {
        var dir = TestPaths.TempDirectory();
        var path = Path.Combine(dir, "out.pt");
        var damaged = Assert.Throws<InvalidDataException>(() => CheckpointExport.Export("AUNCECK1-not-really"u8.ToArray(), "sweep-x t003 f1", ExportFormat.Pt, path));
        Assert.Contains("sweep-x t003 f1", damaged.Message);
        var weightless = Checkpoint.WithoutWeights(new CheckpointHeader
        {
            Label = "l", Epoch = 1, Seed = 1, AuNames = Aus, Model = new ModelOptions(), Hyperparameters = new Dictionary<string, string>(),
        });
        var empty = Assert.Throws<InvalidDataException>(() => CheckpointExport.Export(weightless, "sweep-x t004 f1", ExportFormat.Safetensors, path));
        Assert.Contains("holds no model weights", empty.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    private static JsonObject Raw(string dir, string file, Tensor tensor, string name)
    {
        using var cpu = tensor.detach().cpu().contiguous();
        File.WriteAllBytes(Path.Combine(dir, file), cpu.bytes.ToArray());
        var dtype = cpu.dtype switch
        {
            ScalarType.Float32 => "float32",
            ScalarType.Int64 => "int64",
            ScalarType.Float64 => "float64",
            _ => throw new NotSupportedException($"{name}: {cpu.dtype}"),
        };
        return new JsonObject { ["name"] = name, ["dtype"] = dtype, ["shape"] = new JsonArray([.. cpu.shape.Select(s => (JsonNode?)s)]), ["file"] = file };
    }

    private static JsonNode RunPython(string dir)
    {
        var script = Path.Combine(RepoRoot, "tests", "tools", "check_export.py");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(dir);
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("python3 did not start");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "check_export.py did not finish in 3 minutes");
        Assert.True(p.ExitCode == 0, $"check_export.py failed (exit {p.ExitCode}; ./test.sh installs python3-torch and python3-torchvision):\n{stderr.Result}");
        return JsonNode.Parse(stdout.Result.Trim().Split('\n')[^1])!;
    }
}
