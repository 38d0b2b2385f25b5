namespace AunceSearch.Model;

/// <summary>Where folds train: a GPU when the trainer has one (auto), the CPU, or a GPU (cuda, refused where there is none).</summary>
public enum TrainingDevice
{
    Auto = 0,
    Cpu = 1,
    Cuda = 2,
}
