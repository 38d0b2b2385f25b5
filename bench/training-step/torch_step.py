"""One AUNCE training step in PyTorch on the CPU: the same encoder (ResNet-18 as torchvision builds it + the ANFL head;
bench/gpu/peer.py), the AUNCE loss as the reference computes it, AdamW. Prints a JSON line with the median step time. Peer of aunce-train-bench step."""
import argparse, json, os, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gpu"))
from peer import Encoder, aunce  # noqa: E402  (the same model and loss as the GPU check's peer)

p = argparse.ArgumentParser()
p.add_argument("--size", type=int, default=112); p.add_argument("--batch", type=int, default=32)
p.add_argument("--aus", type=int, default=12); p.add_argument("--dim", type=int, default=512)
p.add_argument("--steps", type=int, default=20); p.add_argument("--warmup", type=int, default=5)
p.add_argument("--threads", type=int, default=0)
a = p.parse_args()
if a.threads: torch.set_num_threads(a.threads)
torch.manual_seed(0)
m = Encoder("resnet18", a.aus, a.dim).train()
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
