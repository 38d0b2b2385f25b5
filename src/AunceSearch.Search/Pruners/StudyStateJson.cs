namespace AunceSearch.Search.Pruners;

/// <summary>JSON for <see cref="StudyState"/>.</summary>
public static class StudyStateJson
{
    public static string Serialize(StudyState state) => StateJson.Serialize(state);

    public static StudyState Deserialize(string json) => StateJson.Deserialize<StudyState>(json);
}
