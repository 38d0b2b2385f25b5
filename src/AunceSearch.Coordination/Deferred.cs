namespace AunceSearch.Coordination;

/// <summary>A list built on first use: samplers that ignore history (random, Sobol, grid) never pay for it.</summary>
internal sealed class Deferred<T>(Func<List<T>> build) : IReadOnlyList<T>
{
    private List<T>? _items;

    private List<T> Items => _items ??= build();

    public T this[int index] => Items[index];

    public int Count => Items.Count;

    public IEnumerator<T> GetEnumerator() => Items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
