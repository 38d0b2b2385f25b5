namespace AunceSearch.Search;

/// <summary>Whether larger or smaller metric values are better.</summary>
public enum Direction
{
    Maximize,
    Minimize,
}
