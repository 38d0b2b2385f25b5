"""One AUNCE training step in PyTorch: the same encoder (ResNet-18 as torchvision builds it + the ANFL head), the AUNCE
loss as the reference computes it, AdamW. Prints a JSON line with the median step time. Peer of aunce-train-bench step."""
import argparse, json, math, time
import torch, torch.nn as nn, torch.nn.functional as F

class Basic(nn.Module):
    def __init__(self, i, o, s):
        super().__init__()
        self.conv1 = nn.Conv2d(i, o, 3, s, 1, bias=False); self.bn1 = nn.BatchNorm2d(o)
        self.conv2 = nn.Conv2d(o, o, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(o)
        self.downsample = nn.Sequential(nn.Conv2d(i, o, 1, s, bias=False), nn.BatchNorm2d(o)) if s != 1 or i != o else None
    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x))); y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))

class ResNet18(nn.Module):
    def __init__(self, w=64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False); self.bn1 = nn.BatchNorm2d(w); self.maxpool = nn.MaxPool2d(3, 2, 1)
        c, layers = w, []
        for i, s in enumerate([1, 2, 2, 2]):
            o = w * 2 ** i; layers.append(nn.Sequential(Basic(c, o, s), Basic(o, o, 1))); c = o
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.out = c
    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return x.flatten(2).transpose(1, 2)

class LinearBlock(nn.Module):
    def __init__(self, i, o):
        super().__init__(); self.fc = nn.Linear(i, o); self.bn = nn.BatchNorm1d(o)
        self.fc.weight.data.normal_(0, math.sqrt(2. / o))
    def forward(self, x):
        return F.relu(self.bn(self.fc(x).transpose(1, 2))).transpose(1, 2)

class Encoder(nn.Module):
    def __init__(self, aus, dim, k=4):
        super().__init__()
        self.backbone = ResNet18(); self.global_linear = LinearBlock(self.backbone.out, dim)
        self.class_linears = nn.ModuleList([LinearBlock(dim, dim) for _ in range(aus)])
        self.U = nn.Linear(dim, dim); self.V = nn.Linear(dim, dim); self.bnv = nn.BatchNorm1d(aus); self.k = k
    def forward(self, x):
        t = self.global_linear(self.backbone(x))
        fv = torch.stack([b(t).mean(1) for b in self.class_linears], 1)
        with torch.no_grad():
            d = fv.detach(); si = d @ d.transpose(1, 2)
            adj = (si >= si.topk(self.k, -1).values[..., -1:]).float()
            dinv = adj.sum(-1).pow(-0.5); a = dinv.unsqueeze(2) * adj * dinv.unsqueeze(1)
        out = F.relu(fv + self.bnv(a @ self.V(fv) + self.U(fv)))
        return F.normalize(out, p=2, dim=-1)

def aunce(z1, z2, y, types, tau=0.5, lmin=1.2, lmaj=0.8):
    # The reference's au_infonce_loss (exp-space, as written there), on (B, C, D) features.
    z = torch.cat([z1, z2], 0).permute(1, 0, 2); n = z.shape[1]
    e = torch.exp(z @ z.transpose(1, 2) / tau)
    yy = torch.cat([y, y], 0).t()
    same = (yy.unsqueeze(2) == yy.unsqueeze(1)).float(); diff = 1 - same
    pmax = (same * e).max(-1).values; pmix = (same * e).sum(-1) / n
    aug = torch.exp((z1 * z2).sum(-1) / tau).t(); paug = torch.cat([aug, aug], 1)
    t = types.unsqueeze(1)
    pos = pmax * (t == 0) + pmix * (t == 1) + paug * (t == 2)
    neg = (diff * e ** lmin).sum(-1) * (yy == 1) + (diff * e ** lmaj).sum(-1) * (yy == 0)
    return (-torch.log(pos / (pos + neg))).mean(1).mean()

p = argparse.ArgumentParser()
p.add_argument("--size", type=int, default=112); p.add_argument("--batch", type=int, default=32)
p.add_argument("--aus", type=int, default=12); p.add_argument("--dim", type=int, default=512)
p.add_argument("--steps", type=int, default=20); p.add_argument("--warmup", type=int, default=5)
p.add_argument("--threads", type=int, default=0)
a = p.parse_args()
if a.threads: torch.set_num_threads(a.threads)
torch.manual_seed(0)
m = Encoder(a.aus, a.dim).train()
opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=1e-6)
v1 = torch.randn(a.batch, 3, a.size, a.size); v2 = torch.randn(a.batch, 3, a.size, a.size)
y = (torch.rand(a.batch, a.aus) < 0.3).float()
times = []
for s in range(a.warmup + a.steps):
    t0 = time.perf_counter()
    u = torch.rand(a.aus); types = torch.where(u < 0.2, 0, torch.where(u < 0.8, 1, 2))
    loss = aunce(m(v1), m(v2), y, types)
    opt.zero_grad(); loss.backward(); opt.step(); loss.item()
    if s >= a.warmup: times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(json.dumps({"impl": "pytorch " + torch.__version__, "optimizer": "AdamW", "median_ms": round(times[len(times) // 2], 1),
                  "min_ms": round(times[0], 1), "threads": torch.get_num_threads()}))
