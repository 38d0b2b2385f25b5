namespace AunceSearch.Training.Evaluation;

/// <summary>Per-AU F1 and accuracy over a whole test set (aunce-reference §6).</summary>
public sealed record AuMetrics(IReadOnlyList<string> AuNames, double[] F1, double[] Accuracy)
{
    public double MeanF1 => F1.Average();

    public double MeanAccuracy => Accuracy.Average();

    /// <summary>
    /// Accumulates TP/FP/TN/FN per AU over all rows; prediction = P(active) ≥ 0.5. precision = TP/(TP+FP+1e-20),
    /// recall = TP/(TP+FN+1e-20), F1 = 2PR/(P+R+1e-20), accuracy = (TP+TN)/(TP+TN+FP+FN).
    /// </summary>
    public static AuMetrics Compute(IReadOnlyList<string> auNames, float[,] pActive, float[,] labels)
    {
        var n = pActive.GetLength(0);
        var c = pActive.GetLength(1);
        var f1 = new double[c];
        var acc = new double[c];
        for (var k = 0; k < c; k++)
        {
            double tp = 0, fp = 0, tn = 0, fn = 0;
            for (var i = 0; i < n; i++)
            {
                var pred = pActive[i, k] >= 0.5f;
                var truth = labels[i, k] >= 0.5f;
                if (pred && truth)
                {
                    tp++;
                }
                else if (pred)
                {
                    fp++;
                }
                else if (truth)
                {
                    fn++;
                }
                else
                {
                    tn++;
                }
            }

            var precision = tp / (tp + fp + 1e-20);
            var recall = tp / (tp + fn + 1e-20);
            f1[k] = 2 * precision * recall / (precision + recall + 1e-20);
            acc[k] = (tp + tn) / Math.Max(1, tp + tn + fp + fn);
        }

        return new AuMetrics(auNames, f1, acc);
    }
}

/// <summary>
/// The trivial baselines of a test split, per AU: the F1 of predicting every AU active (= 2r / (1 + r) for an AU active in
/// a share r of the images) and the accuracy of always predicting the split's majority class (= max(r, 1 − r)). A model
/// that does not beat them has not learned that AU.
/// </summary>
public sealed record AuBaselines(IReadOnlyList<string> AuNames, double[] AllActiveF1, double[] MajorityAccuracy)
{
    public double MeanAllActiveF1 => AllActiveF1.Average();

    public double MeanMajorityAccuracy => MajorityAccuracy.Average();

    public static AuBaselines Compute(IReadOnlyList<string> auNames, float[,] labels)
    {
        var n = labels.GetLength(0);
        var c = labels.GetLength(1);
        var allOnes = new float[n, c];
        var allZeros = new float[n, c];
        for (var i = 0; i < n; i++)
        {
            for (var k = 0; k < c; k++)
            {
                allOnes[i, k] = 1;
            }
        }

        // The same TP/FP/TN/FN arithmetic as the models' metrics, applied to the two constant predictors.
        var active = AuMetrics.Compute(auNames, allOnes, labels);
        var inactive = AuMetrics.Compute(auNames, allZeros, labels);
        return new AuBaselines(auNames, active.F1, [.. active.Accuracy.Zip(inactive.Accuracy, Math.Max)]);
    }
}
