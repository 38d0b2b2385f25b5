using System.Security.Cryptography;
using System.Text;

namespace AunceSearch.Cli.Tests;

/// <summary>
/// Bad input as a class, not a list of cases: valid inputs (a spec, a fold's image list and label file, a pruner trace) are
/// corrupted at random, seeded — truncated, a line deleted or duplicated, a tab, BOM or NUL inserted, bytes flipped, a
/// number made a word or a word a number, a number made huge — and each corruption is run through the command that reads
/// it. Every outcome must be a success or exit 2 with one line that names the input, no stack trace, no exception type,
/// and nothing on disk changed.
/// </summary>
public sealed class MutationTests
{
    private const int Seed = 2026;

    private static readonly string[] Mutators = ["truncate", "delete-line", "duplicate-line", "tab", "bom", "nul", "flip", "word-for-number", "number-for-word", "huge-number"];

    private static string Mutate(string text, Random random, out string how)
    {
        var lines = text.Split('\n').ToList();
        var kind = Mutators[random.Next(Mutators.Length)];
        var at = random.Next(Math.Max(1, text.Length));
        var line = random.Next(lines.Count);
        how = $"{kind} at {(kind.EndsWith("-line", StringComparison.Ordinal) ? $"line {line + 1}" : $"char {at}")}";
        switch (kind)
        {
            case "truncate":
                return text[..at];
            case "delete-line":
                lines.RemoveAt(line);
                return string.Join('\n', lines);
            case "duplicate-line":
                lines.Insert(line, lines[line]);
                return string.Join('\n', lines);
            case "tab":
                return text.Insert(at, "\t");
            case "bom":
                return text.Insert(random.Next(2) == 0 ? 0 : at, "\uFEFF");
            case "nul":
                return text.Insert(at, "\0");
            case "flip":
                var chars = text.ToCharArray();
                for (var k = 0; k < 1 + random.Next(3); k++)
                {
                    var i = random.Next(chars.Length);
                    chars[i] = (char)(chars[i] ^ (1 << random.Next(7)));
                }

                return new string(chars);
            default:
                var tokens = System.Text.RegularExpressions.Regex.Matches(text, kind == "number-for-word" ? @"[A-Za-z_]{2,}" : @"-?\d+(\.\d+)?(e-?\d+)?");
                if (tokens.Count == 0)
                {
                    return text;
                }

                var token = tokens[random.Next(tokens.Count)];
                var replacement = kind switch
                {
                    "word-for-number" => "abc",
                    "number-for-word" => "12",
                    _ => random.Next(2) == 0 ? "1e309" : "99999999999999999999999",
                };
                how = $"{kind} '{token.Value}' at char {token.Index}";
                return text[..token.Index] + replacement + text[(token.Index + token.Length)..];
        }
    }

    private static SortedDictionary<string, string> Snapshot(string dir) => new(
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    /// <summary>Runs <paramref name="args"/> over each of <paramref name="count"/> corruptions of <paramref name="file"/>; returns the failures.</summary>
    private static async Task<List<string>> Corrupt(string file, int count, Random random, string[] args, string[] names, string watched)
    {
        var original = await File.ReadAllTextAsync(file);
        var failures = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var text = Mutate(original, random, out var how);
            await File.WriteAllTextAsync(file, text, new UTF8Encoding(false));
            var before = Snapshot(watched);
            var (code, _, err) = await CliHarness.Run(args);
            var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("warning: ", StringComparison.Ordinal)).ToList();
            var problem = code switch
            {
                0 => null,
                2 when lines.Count != 1 => $"{lines.Count} error lines",
                2 when !lines[0].StartsWith("error: ", StringComparison.Ordinal) => "no 'error: ' line",
                2 when !names.Any(n => lines[0].Contains(n, StringComparison.Ordinal)) => "the input is not named",
                2 when lines[0].Contains("Exception", StringComparison.Ordinal) || err.Contains("   at ", StringComparison.Ordinal) => "an exception type or stack trace",
                2 => null,
                _ => $"exit {code}",
            };
            if (problem is null && !Snapshot(watched).SequenceEqual(before))
            {
                problem = "files changed";
            }

            if (problem is not null)
            {
                failures.Add($"{Path.GetFileName(file)} ({how}): {problem}: {err.Trim().Split('\n')[0]}");
            }
        }

        await File.WriteAllTextAsync(file, original, new UTF8Encoding(false));
        return failures;
    }

    [Fact]
    public async Task Hundreds_of_random_corruptions_of_every_input_each_exit_2_with_one_line_naming_it_or_succeed()
    {
        var random = new Random(Seed);
        var data = CliHarness.CopyOf(CliHarness.SyntheticDataset(), "data");
        var work = CliHarness.TempDirectory();
        var spec = Path.Combine(work, "spec.yaml");
        await File.WriteAllTextAsync(spec, $"""
            name: mutated
            seed: 1
            dataset: {"{"}root: {data}, folds: [1, 2], image_size: 32{"}"}
            model: {"{"}encoder: small-cnn, width: 4, feature_dim: 8{"}"}
            training: {"{"}epochs: 2, batch_size: 8, device: cpu{"}"}
            search:
              trials: 4
              sampler: random
              scheduler: {"{"}kind: asha, grace_period: 1, reduction_factor: 2{"}"}
              space:
                lr: {"{"}log_uniform: [1.0e-4, 1.0e-2]{"}"}
                temperature: {"{"}uniform: [0.05, 0.5]{"}"}
            """);
        Assert.Equal(0, (await CliHarness.Run("sweep", "validate", spec)).Code);

        var list = Path.Combine(data, "list", "SYN_train_img_path_fold1.txt");
        var labels = Path.Combine(data, "list", "SYN_train_label_fold1.txt");
        var trace = Path.Combine(work, "trace.json");
        File.Copy(AunceSearch.Tests.TestFixtures.Path("aunce/pruner-traces/median-1.json"), trace);
        string[] pair = ["SYN_train_img_path_fold1.txt", "SYN_train_label_fold1.txt"];
        var failures = new List<string>();
        failures.AddRange(await Corrupt(spec, 100, random, ["sweep", "validate", spec], ["spec.yaml"], data));
        failures.AddRange(await Corrupt(list, 70, random, ["sweep", "validate", spec], pair, work));
        failures.AddRange(await Corrupt(labels, 70, random, ["sweep", "validate", spec], pair, work));
        failures.AddRange(await Corrupt(trace, 80, random, ["scheduler", "replay", trace], ["trace.json"], data));
        Assert.True(failures.Count == 0, $"{failures.Count} of 320 corruptions were not handled:\n{string.Join('\n', failures)}");
    }
}
