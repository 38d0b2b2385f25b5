"""PyTorch peer of aunce-train-bench for bench/gpu/run.sh: the same AUNCE encoder (ResNet-18/50 as torchvision builds it,
global_linear, the ANFL head, L2 normalisation) with AunceSearch's parameter names, the AUNCE loss as the reference's
losses.py computes it, AdamW. Subcommands print one JSON line each:

  step     --encoder resnet50 --size 224 --batch 64 --dim 1024 [--amp bf16] [--channels-last] --device cuda
           median/min step time and images/s over timed steps (after warm-up), CUDA-synchronised
  parity   DIR: writes DIR/model.safetensors (every parameter and buffer), DIR/inputs.safetensors (two views, labels,
           positive types), runs one training step in fp32 and writes DIR/expected.safetensors (loss, every gradient,
           every parameter after the AdamW step) for `aunce-train-bench parity DIR` to compare against
No dependency beyond torch (safetensors files are written by hand: 8-byte header length, JSON header, raw bytes).
bench/training-step/torch_step.py imports the model and the loss from here."""
import argparse, copy, json, math, os, statistics, struct, time
import torch, torch.nn as nn, torch.nn.functional as F


class Basic(nn.Module):
    expansion = 1

    def __init__(self, i, o, s):
        super().__init__()
        self.conv1 = nn.Conv2d(i, o, 3, s, 1, bias=False); self.bn1 = nn.BatchNorm2d(o)
        self.conv2 = nn.Conv2d(o, o, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(o)
        self.downsample = nn.Sequential(nn.Conv2d(i, o, 1, s, bias=False), nn.BatchNorm2d(o)) if s != 1 or i != o else None

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x))); y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, i, p, s):
        super().__init__()
        self.conv1 = nn.Conv2d(i, p, 1, bias=False); self.bn1 = nn.BatchNorm2d(p)
        self.conv2 = nn.Conv2d(p, p, 3, s, 1, bias=False); self.bn2 = nn.BatchNorm2d(p)
        self.conv3 = nn.Conv2d(p, p * 4, 1, bias=False); self.bn3 = nn.BatchNorm2d(p * 4)
        self.downsample = nn.Sequential(nn.Conv2d(i, p * 4, 1, s, bias=False), nn.BatchNorm2d(p * 4)) if s != 1 or i != p * 4 else None

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x))); y = F.relu(self.bn2(self.conv2(y))); y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, blocks, block, w=64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False); self.bn1 = nn.BatchNorm2d(w); self.maxpool = nn.MaxPool2d(3, 2, 1)
        c = w
        for i, (n, s) in enumerate(zip(blocks, [1, 2, 2, 2])):
            layers = []
            for j in range(n):
                layers.append(block(c, w * 2 ** i, s if j == 0 else 1)); c = w * 2 ** i * block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*layers))
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


class GNN(nn.Module):
    def __init__(self, dim, aus):
        super().__init__(); self.U = nn.Linear(dim, dim); self.V = nn.Linear(dim, dim); self.bnv = nn.BatchNorm1d(aus)


class Head(nn.Module):
    def __init__(self, dim, aus, k):
        super().__init__()
        self.class_linears = nn.ModuleList([LinearBlock(dim, dim) for _ in range(aus)]); self.gnn = GNN(dim, aus); self.k = k

    def forward(self, t):
        fv = torch.stack([b(t).mean(1) for b in self.class_linears], 1)
        with torch.no_grad():
            d = fv.detach(); si = d @ d.transpose(1, 2)
            adj = (si >= si.topk(self.k, -1).values[..., -1:]).to(fv.dtype)
            dinv = adj.sum(-1).pow(-0.5); a = dinv.unsqueeze(2) * adj * dinv.unsqueeze(1)
        return F.relu(fv + self.gnn.bnv(a @ self.gnn.V(fv) + self.gnn.U(fv)))


class Encoder(nn.Module):
    def __init__(self, encoder, aus, dim, width=64, k=4):
        super().__init__()
        self.backbone = ResNet([2, 2, 2, 2], Basic, width) if encoder == "resnet18" else ResNet([3, 4, 6, 3], Bottleneck, width)
        self.global_linear = LinearBlock(self.backbone.out, dim); self.head = Head(dim, aus, k)

    def forward(self, x):
        return F.normalize(self.head(self.global_linear(self.backbone(x))), p=2, dim=-1)


def aunce(z1, z2, y, types, tau=0.5, lmin=1.2, lmaj=0.8):
    """The reference's au_infonce_loss (exp-space, as written there), on (B, C, D) features; types per AU 0 MAX, 1 MIX, 2 AUG."""
    z = torch.cat([z1, z2], 0).permute(1, 0, 2); n = z.shape[1]
    e = torch.exp(z @ z.transpose(1, 2) / tau)
    yy = torch.cat([y, y], 0).t()
    same = (yy.unsqueeze(2) == yy.unsqueeze(1)).to(e.dtype); diff = 1 - same
    pmax = (same * e).max(-1).values; pmix = (same * e).sum(-1) / n
    aug = torch.exp((z1 * z2).sum(-1) / tau).t(); paug = torch.cat([aug, aug], 1)
    t = types.unsqueeze(1)
    pos = pmax * (t == 0) + pmix * (t == 1) + paug * (t == 2)
    neg = (diff * e ** lmin).sum(-1) * (yy == 1) + (diff * e ** lmaj).sum(-1) * (yy == 0)
    return (-torch.log(pos / (pos + neg))).mean(1).mean()


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def step(a):
    device = torch.device(a.device)
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = False
    m = Encoder(a.encoder, a.aus, a.dim, a.width).to(device).train()
    if a.channels_last:
        m = m.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=1e-6)
    v1 = torch.randn(a.batch, 3, a.size, a.size, device=device); v2 = torch.randn(a.batch, 3, a.size, a.size, device=device)
    if a.channels_last:
        v1 = v1.contiguous(memory_format=torch.channels_last); v2 = v2.contiguous(memory_format=torch.channels_last)
    y = (torch.rand(a.batch, a.aus, device=device) < 0.3).float()
    times, loss_times = [], []
    for s in range(a.warmup + a.steps):
        sync(device); t0 = time.perf_counter()
        u = torch.rand(a.aus); types = torch.where(u < 0.2, 0, torch.where(u < 0.8, 1, 2)).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.amp == "bf16" and device.type == "cuda"):
            z1, z2 = m(v1), m(v2)
        loss = aunce(z1.float(), z2.float(), y, types)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); loss.item()
        sync(device)
        if s >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
            # The loss's own share: forward + backward of the AUNCE loss alone on features of the same shape.
            f1 = F.normalize(torch.randn_like(z1, dtype=torch.float32), dim=-1).requires_grad_()
            f2 = F.normalize(torch.randn_like(z2, dtype=torch.float32), dim=-1).requires_grad_()
            sync(device); t1 = time.perf_counter()
            aunce(f1, f2, y, types).backward()
            sync(device); loss_times.append((time.perf_counter() - t1) * 1000)
    med = statistics.median(times)
    print(json.dumps({"impl": "pytorch " + torch.__version__, "device": str(device), "encoder": a.encoder, "size": a.size, "batch": a.batch,
                      "amp": a.amp, "channels_last": a.channels_last, "median_ms": round(med, 2), "min_ms": round(min(times), 2),
                      "images_per_s": round(a.batch / med * 1000, 1), "loss_ms": round(statistics.median(loss_times), 3),
                      "threads": torch.get_num_threads()}))


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().to("cpu").contiguous()
        dtype = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw); offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text))); f.write(text)
        for b in blobs:
            f.write(b)


def parity(a):
    device = torch.device(a.device)
    torch.backends.cudnn.allow_tf32 = False; torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(0)
    m = Encoder(a.encoder, a.aus, a.dim, a.width).to(device).train()
    m64 = copy.deepcopy(m).double()
    os.makedirs(a.dir, exist_ok=True)
    write_safetensors(os.path.join(a.dir, "model.safetensors"), dict(m.state_dict()))
    v1 = torch.randn(a.batch, 3, a.size, a.size, device=device); v2 = torch.randn(a.batch, 3, a.size, a.size, device=device)
    y = (torch.rand(a.batch, a.aus, device=device) < 0.3).float()
    types = torch.tensor([i % 3 for i in range(a.aus)], dtype=torch.int64, device=device)
    write_safetensors(os.path.join(a.dir, "inputs.safetensors"), {"v1": v1, "v2": v2, "labels": y, "types": types})
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=1e-2)
    loss = aunce(m(v1), m(v2), y, types)
    opt.zero_grad(); loss.backward()
    out = {"loss": loss.detach().reshape(1)}
    out.update({"grad." + n: p.grad for n, p in m.named_parameters()})
    opt.step()
    out.update({"after." + n: p for n, p in m.named_parameters()})
    write_safetensors(os.path.join(a.dir, "expected.safetensors"), out)
    # The same step in fp64 (no fp32 kernel, oneDNN's or cuDNN's, takes part): the truth both fp32 steps are judged against.
    loss64 = aunce(m64(v1.double()), m64(v2.double()), y.double(), types)
    loss64.backward()
    out64 = {"loss": loss64.detach().reshape(1)}
    out64.update({"grad." + n: p.grad for n, p in m64.named_parameters()})
    write_safetensors(os.path.join(a.dir, "expected64.safetensors"), out64)
    print(json.dumps({"impl": "pytorch " + torch.__version__, "device": str(device), "loss": loss.item(), "tensors": len(out)}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["step", "parity"]); p.add_argument("dir", nargs="?")
    p.add_argument("--encoder", default="resnet50"); p.add_argument("--width", type=int, default=64)
    p.add_argument("--size", type=int, default=224); p.add_argument("--batch", type=int, default=64)
    p.add_argument("--aus", type=int, default=12); p.add_argument("--dim", type=int, default=1024)
    p.add_argument("--steps", type=int, default=20); p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--amp", default="off"); p.add_argument("--channels-last", action="store_true")
    p.add_argument("--device", default="cuda"); p.add_argument("--threads", type=int, default=0)
    p.add_argument("--mkldnn", choices=["on", "off"], default="on",
                   help="off: PyTorch's portable CPU kernels instead of oneDNN (mkldnn), for a reference no oneDNN defect reaches")
    a = p.parse_args()
    torch.backends.mkldnn.enabled = a.mkldnn == "on"
    if a.threads:
        torch.set_num_threads(a.threads)
    step(a) if a.command == "step" else parity(a)
