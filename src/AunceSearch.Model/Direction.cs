namespace AunceSearch.Model;

/// <summary>Whether larger or smaller metric values are better.</summary>
/// <remarks>Stored and sent by value: the numbers never change.</remarks>
public enum Direction
{
    Maximize = 0,
    Minimize = 1,
}
