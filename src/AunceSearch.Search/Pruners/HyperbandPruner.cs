using AunceSearch.Model;
namespace AunceSearch.Search.Pruners;

/// <summary>
/// Optuna 3.1's <c>HyperbandPruner</c>: trials are assigned to brackets deterministically by
/// crc32("&lt;study_name&gt;_&lt;trial&gt;") mod the total budget, and each bracket b runs successive halving with
/// min_early_stopping_rate = b among its own trials only.
/// </summary>
public sealed class HyperbandPruner : IPruner
{
    private readonly SuccessiveHalvingPruner[] _brackets;
    private readonly int[] _budgets;
    private readonly int _total;

    public HyperbandPruner(int minResource, int maxResource, int reductionFactor, int bootstrapCount, string studyName, Direction direction)
    {
        if (maxResource <= minResource)
        {
            throw new ArgumentOutOfRangeException(nameof(maxResource), maxResource, $"max_resource must be > min_resource ({minResource})");
        }

        StudyName = studyName;
        // Python: math.log(max / min, rf), computed as log(x) / log(base) in double precision.
        var n = (int)Math.Floor(Math.Log((double)maxResource / minResource) / Math.Log(reductionFactor)) + 1;
        _budgets = new int[n];
        for (var b = 0; b < n; b++)
        {
            var s = n - 1 - b;
            _budgets[b] = (int)Math.Ceiling(n * Math.Pow(reductionFactor, s) / (s + 1));
        }

        _total = _budgets.Sum();
        _brackets = new SuccessiveHalvingPruner[n];
        for (var b = 0; b < n; b++)
        {
            var bracket = b;
            _brackets[b] = new SuccessiveHalvingPruner(minResource, reductionFactor, b, bootstrapCount, direction, t => BracketOf(t) == bracket);
        }
    }

    public string StudyName { get; }

    public int BracketCount => _brackets.Length;

    public IReadOnlyList<int> Budgets => _budgets;

    /// <summary>The bracket of a trial number.</summary>
    public int BracketOf(int trial)
    {
        // CRC-32 as zlib and Python's binascii.crc32 compute it (Optuna hashes the same string), so brackets match Optuna's.
        var h = (long)(System.IO.Hashing.Crc32.HashToUInt32(System.Text.Encoding.UTF8.GetBytes($"{StudyName}_{trial}")) % (uint)_total);
        for (var b = 0; b < _budgets.Length; b++)
        {
            h -= _budgets[b];
            if (h < 0)
            {
                return b;
            }
        }

        return _budgets.Length - 1;
    }

    public SchedulerDecision Report(StudyState state, int trial, int step, double value)
    {
        var bracket = BracketOf(trial);
        var d = _brackets[bracket].Report(state, trial, step, value);
        return d with { Reason = $"bracket {bracket}: {d.Reason}" };
    }
}
