using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace AunceSearch.Spec;

/// <summary>
/// Reads one YAML mapping with positions: every error names file:line:column and the dotted field path, and
/// keys nobody asked for are reported as unknown (so a typo never silently becomes a default).
/// </summary>
internal sealed class YamlMap
{
    private readonly YamlMappingNode _node;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public YamlMap(YamlMappingNode node, string file, string path)
    {
        _node = node;
        File = file;
        Path = path;
    }

    public string File { get; }

    public string Path { get; }

    public YamlNode Node => _node;

    /// <summary>
    /// A YAML error at its place. A tab in a line's indentation (YAML indents with spaces only) is named at the tab itself:
    /// the YAML library reports it at the scalar it was scanning, often a line earlier.
    /// </summary>
    private static SpecException Malformed(YamlException e, string text, string file)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            if (lines[i].IndexOf('\t', 0, indent) is var tab and >= 0 && i + 1 >= e.Start.Line - 1)
            {
                return new SpecException($"{file}:{i + 1}:{tab + 1}: a tab in the indentation; YAML indents with spaces only");
            }
        }

        return new SpecException($"{file}:{e.Start.Line}:{e.Start.Column}: malformed YAML: {e.Message}");
    }

    public static YamlMap Load(string text, string file)
    {
        CheckShape(text, file);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw Malformed(e, text, file);
        }

        if (stream.Documents.Count == 0)
        {
            throw new SpecException($"{file}:1:1: the spec is empty");
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            var n = stream.Documents[0].RootNode;
            throw new SpecException($"{At(file, n)}: the spec must be a mapping of sections (name, dataset, model, training, search)");
        }

        return new YamlMap(root, file, "");
    }

    /// <summary>Deepest nesting of mappings and sequences a spec may have (a real spec uses 4).</summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// One pass over the parser's events before anything is built: a second document is refused (a multi-document file
    /// would otherwise be read as its first document alone), and so is nesting deeper than <see cref="MaxDepth"/> (the
    /// representation model recurses, and a pathological file would overflow the stack instead of getting an error).
    /// </summary>
    private static void CheckShape(string text, string file)
    {
        var parser = new Parser(new StringReader(text));
        var depth = 0;
        var documents = 0;
        try
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case DocumentStart d:
                        documents++;
                        if (documents > 1)
                        {
                            throw new SpecException($"{file}:{d.Start.Line}:{d.Start.Column}: a second YAML document ('---'); a spec file holds exactly one sweep (put each sweep in its own file)");
                        }

                        break;
                    case MappingStart or SequenceStart:
                        depth++;
                        if (depth > MaxDepth)
                        {
                            var e = parser.Current!;
                            throw new SpecException($"{file}:{e.Start.Line}:{e.Start.Column}: nesting deeper than {MaxDepth} levels; a spec is a few levels of sections and lists");
                        }

                        break;
                    case MappingEnd or SequenceEnd:
                        depth--;
                        break;
                }
            }
        }
        catch (YamlException e)
        {
            throw Malformed(e, text, file);
        }
    }

    public static string At(string file, YamlNode node) => $"{file}:{node.Start.Line}:{node.Start.Column}";

    public string Field(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public SpecException Error(YamlNode node, string key, string what) => new($"{At(File, node)}: {Field(key)}: {what}");

    public SpecException Error(string what) => new($"{At(File, _node)}: {(Path.Length == 0 ? "spec" : Path)}: {what}");

    public IEnumerable<string> Keys => _node.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "");

    public bool Has(string key) => TryNode(key, out _);

    public bool TryNode(string key, out YamlNode node)
    {
        _used.Add(key);
        foreach (var (k, v) in _node.Children)
        {
            if (k is YamlScalarNode s && s.Value == key)
            {
                node = v;
                return true;
            }
        }

        node = _node;
        return false;
    }

    public YamlMap? Map(string key)
    {
        if (!TryNode(key, out var node))
        {
            return null;
        }

        return node is YamlMappingNode m ? new YamlMap(m, File, Field(key)) : throw Error(node, key, "must be a mapping");
    }

    public YamlMap RequiredMap(string key) => Map(key) ?? throw Error($"missing section '{key}'");

    /// <summary>The section <paramref name="key"/>, or an empty one when the spec leaves it out (so its defaults are read in one place).</summary>
    public YamlMap MapOrEmpty(string key) => Map(key) ?? new YamlMap(new YamlMappingNode(), File, Field(key));

    public string? String(string key)
    {
        if (!TryNode(key, out var node))
        {
            return null;
        }

        return node is YamlScalarNode s && s.Value is not null ? s.Value : throw Error(node, key, "must be a single value");
    }

    public string RequiredString(string key) => String(key) ?? throw Error($"missing required field '{key}'");

    public double? Double(string key)
    {
        if (!TryNode(key, out var node))
        {
            return null;
        }

        return ParseDouble(node, key);
    }

    public double ParseDouble(YamlNode node, string key)
    {
        if (node is YamlScalarNode s && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v))
        {
            return v;
        }

        throw Error(node, key, $"expected a number, got '{Describe(node)}'");
    }

    public long? Long(string key)
    {
        if (!TryNode(key, out var node))
        {
            return null;
        }

        return ParseLong(node, key);
    }

    public long ParseLong(YamlNode node, string key)
    {
        if (node is YamlScalarNode s && long.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
        {
            return v;
        }

        throw Error(node, key, $"expected an integer, got '{Describe(node)}'");
    }

    public int? Int(string key, int min, int max = int.MaxValue)
    {
        if (!TryNode(key, out var node))
        {
            return null;
        }

        var v = ParseLong(node, key);
        if (v < min || v > max)
        {
            throw Error(node, key, max == int.MaxValue ? $"must be >= {min}, got {v}" : $"must be between {min} and {max}, got {v}");
        }

        return (int)v;
    }

    public bool? Bool(string key)
    {
        if (!TryNode(key, out var node))
        {
            return null;
        }

        if (node is YamlScalarNode s && bool.TryParse(s.Value, out var b))
        {
            return b;
        }

        throw Error(node, key, $"expected true or false, got '{Describe(node)}'");
    }

    public IReadOnlyList<YamlNode>? List(string key)
    {
        if (!TryNode(key, out var node))
        {
            return null;
        }

        return node is YamlSequenceNode seq ? seq.Children.ToList() : throw Error(node, key, "must be a list");
    }

    public IReadOnlyList<string>? StringList(string key) =>
        List(key)?.Select(n => n is YamlScalarNode s && s.Value is not null ? s.Value : throw Error(n, key, "must be a list of values")).ToList();

    public string? Choice(string key, params string[] allowed)
    {
        var value = String(key);
        if (value is not null && !allowed.Contains(value, StringComparer.Ordinal))
        {
            TryNode(key, out var node);
            throw Error(node, key, $"'{value}' is not one of: {string.Join(", ", allowed)}");
        }

        return value;
    }

    /// <summary>Fails on the first key that no reader asked for.</summary>
    public void EnsureNoUnknownKeys()
    {
        foreach (var (k, _) in _node.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? "";
            if (!_used.Contains(key))
            {
                throw new SpecException($"{At(File, k)}: {Field(key)}: unknown key '{key}'");
            }
        }
    }

    private static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value ?? "",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => node.NodeType.ToString(),
    };
}
