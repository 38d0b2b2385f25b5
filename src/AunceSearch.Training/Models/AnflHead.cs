using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AunceSearch.Training.Models;

/// <summary>
/// ME-GraphAU's LinearBlock as the AUNCE reference uses it: Linear → BatchNorm1d over the channel axis of (B, L, D) tokens
/// (statistics over batch × tokens) → ReLU; the Linear weight is drawn from N(0, sqrt(2/out)).
/// </summary>
internal sealed class LinearBlock : Module<Tensor, Tensor>
{
    private readonly Linear fc;
    private readonly BatchNorm1d bn;

    public LinearBlock(int inFeatures, int outFeatures) : base("LinearBlock")
    {
        fc = Linear(inFeatures, outFeatures);
        bn = BatchNorm1d(outFeatures);
        RegisterComponents();
        using var _ = torch.no_grad();
        init.normal_(fc.weight!, 0, Math.Sqrt(2.0 / outFeatures));
    }

    /// <summary>(B, L, in) → (B, L, out).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = fc.forward(x).transpose(1, 2);           // (B, out, L)
        return functional.relu(bn.forward(h)).transpose(1, 2).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The ANFL head of ME-GraphAU stage 1 as the AUNCE reference builds it (aunce-reference §5): AFG — one LinearBlock per AU
/// on the token sequence, averaged over tokens into an AU feature f_v (B, C, D); FGG — on the detached f_v a per-sample
/// dot-product graph keeps each AU's K most similar AUs (ties may keep more; the AU itself is normally among them),
/// A = D^−½·adj·D^−½, and the output is ReLU(f_v + BN_C(A·V(f_v) + U(f_v))) with BN_C a BatchNorm1d over the C AUs.
/// Parameter names follow ME-GraphAU (<c>class_linears.i.fc</c>, <c>gnn.U</c>, <c>gnn.V</c>, <c>gnn.bnv</c>).
/// </summary>
public sealed class AnflHead : Module<Tensor, Tensor>
{
    private readonly ModuleList<LinearBlock> class_linears;
    private readonly Gnn gnn;
    private readonly int _neighbors;

    public AnflHead(int dim, int auCount, int neighbors) : base("Head")
    {
        if (neighbors < 1 || neighbors > auCount)
        {
            throw new ArgumentException($"anfl: neighbors (K) must be between 1 and the number of AUs ({auCount}), got {neighbors}");
        }

        _neighbors = neighbors;
        class_linears = new ModuleList<LinearBlock>([.. Enumerable.Range(0, auCount).Select(_ => new LinearBlock(dim, dim))]);
        gnn = new Gnn(dim, auCount);
        RegisterComponents();
    }

    /// <summary>(B, L, D) tokens → (B, C, D) AU features (not normalised).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var fv = torch.stack([.. class_linears.Select(block => block.forward(x).mean([1]))], 1);   // (B, C, D)
        return gnn.Forward(fv, _neighbors).MoveToOuterDisposeScope();
    }

    private sealed class Gnn : Module<Tensor, Tensor>
    {
        private readonly Linear U;
        private readonly Linear V;
        private readonly BatchNorm1d bnv;

        public Gnn(int dim, int auCount) : base("GNN")
        {
            U = Linear(dim, dim);
            V = Linear(dim, dim);
            bnv = BatchNorm1d(auCount);
            RegisterComponents();
            using var _ = torch.no_grad();
            init.normal_(U.weight!, 0, Math.Sqrt(2.0 / dim));
            init.normal_(V.weight!, 0, Math.Sqrt(2.0 / dim));
        }

        public override Tensor forward(Tensor x) => Forward(x, 4);

        public Tensor Forward(Tensor fv, int k)
        {
            using var scope = NewDisposeScope();
            Tensor a;
            using (torch.no_grad())
            {
                var d = fv.detach();
                var si = d.bmm(d.transpose(1, 2));                                  // (B, C, C)
                var threshold = si.topk(k, dim: -1).values.narrow(-1, k - 1, 1);   // K-th largest per row
                var adj = si.ge(threshold).to(fv.dtype);
                var dinv = adj.sum(-1).pow(-0.5);                                    // ≥ 1 entry per row, so finite
                a = dinv.unsqueeze(2).mul(adj).mul(dinv.unsqueeze(1));
            }

            var aggregate = a.bmm(V.forward(fv));
            return functional.relu(fv.add(bnv.forward(aggregate.add(U.forward(fv))))).MoveToOuterDisposeScope();
        }
    }
}
