namespace AunceSearch.Spec;

/// <summary>A sweep specification is invalid. The message names the file, line and column, and the field.</summary>
public sealed class SpecException(string message) : Exception(message);
