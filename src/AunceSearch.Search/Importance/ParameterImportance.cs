namespace AunceSearch.Search.Importance;

/// <summary>One parameter's importance: its share of the total (the shares sum to 1) and the raw divergence it came from.</summary>
public sealed record ParameterImportance(string Parameter, double Share, double Divergence);
