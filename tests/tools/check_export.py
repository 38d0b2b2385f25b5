"""Checks AunceSearch's checkpoint exports in PyTorch (Debian's python3-torch and python3-torchvision).

Usage: check_export.py DIR
DIR holds what ExportTests wrote:
  manifest.json  {"encoder", "au_names", "feature_dim", "width", "neighbors", "tensors": [{"name", "dtype", "shape", "file"}],
                  "input": {"shape", "file"}, "output": {"shape", "file"}}
  raw/*.bin      each tensor's little-endian bytes, written straight from TorchSharp (not by either exporter)
  encoder.pt, encoder.safetensors   the exports

Prints one JSON line: {"pt_tensors", "safetensors_tensors", "max_abs_diff_pt", "max_abs_diff_safetensors",
"forward_max_abs_diff", "metadata_pt", "metadata_safetensors"} and exits 0; any mismatch is an exception (exit 1).
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"float32": (np.float32, torch.float32), "int64": (np.int64, torch.int64), "float64": (np.float64, torch.float64)}
ST_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "F16": np.float16, "I32": np.int32, "U8": np.uint8}


def raw(root, entry):
    np_type, _ = DTYPES[entry["dtype"]]
    data = np.fromfile(os.path.join(root, entry["file"]), dtype=np_type)
    return torch.from_numpy(data.reshape(entry["shape"]).copy())


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    metadata = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        arr = np.frombuffer(blob[base + start:base + end], dtype=ST_DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = torch.from_numpy(arr.copy())
    return tensors, metadata


class LinearBlock(torch.nn.Module):
    """Linear -> BatchNorm1d over the channel axis of (B, L, D) tokens -> ReLU (ME-GraphAU's, as the reference uses it)."""

    def __init__(self, d_in, d_out):
        super().__init__()
        self.fc = torch.nn.Linear(d_in, d_out)
        self.bn = torch.nn.BatchNorm1d(d_out)

    def forward(self, x):
        return F.relu(self.bn(self.fc(x).transpose(1, 2))).transpose(1, 2)


class Gnn(torch.nn.Module):
    def __init__(self, dim, aus, k):
        super().__init__()
        self.U = torch.nn.Linear(dim, dim)
        self.V = torch.nn.Linear(dim, dim)
        self.bnv = torch.nn.BatchNorm1d(aus)
        self.k = k

    def forward(self, fv):
        with torch.no_grad():
            d = fv.detach()
            si = d.bmm(d.transpose(1, 2))
            threshold = si.topk(self.k, dim=-1).values[..., self.k - 1:self.k]
            adj = (si >= threshold).to(fv.dtype)
            dinv = adj.sum(-1).pow(-0.5)
            a = dinv.unsqueeze(2) * adj * dinv.unsqueeze(1)
        return F.relu(fv + self.bnv(a.bmm(self.V(fv)) + self.U(fv)))


class Head(torch.nn.Module):
    def __init__(self, dim, aus, k):
        super().__init__()
        self.class_linears = torch.nn.ModuleList([LinearBlock(dim, dim) for _ in range(aus)])
        self.gnn = Gnn(dim, aus, k)

    def forward(self, x):
        fv = torch.stack([block(x).mean(1) for block in self.class_linears], 1)
        return self.gnn(fv)


class ResNetTokens(torch.nn.Module):
    """torchvision's ResNet without pooling and classifier: the last stage's map as (B, h*w, C) tokens."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        x = n.layer4(n.layer3(n.layer2(n.layer1(x))))
        return x.flatten(2).transpose(1, 2)


class AuEncoder(torch.nn.Module):
    def __init__(self, backbone, channels, aus, dim, k):
        super().__init__()
        self.backbone = backbone
        self.global_linear = LinearBlock(channels, dim)
        self.head = Head(dim, aus, k)

    def forward(self, x):
        return F.normalize(self.head(self.global_linear(self.backbone(x))), p=2, dim=-1, eps=1e-12)


class SmallCnn(torch.nn.Module):
    def __init__(self, aus, width, dim):
        super().__init__()
        self.aus, self.dim = aus, dim
        self.features = torch.nn.Sequential()
        self.features.add_module("conv1", torch.nn.Conv2d(3, width, 3, padding=1))
        self.features.add_module("bn1", torch.nn.BatchNorm2d(width))
        self.features.add_module("relu1", torch.nn.ReLU())
        self.features.add_module("pool1", torch.nn.MaxPool2d(2))
        self.features.add_module("conv2", torch.nn.Conv2d(width, 2 * width, 3, padding=1))
        self.features.add_module("bn2", torch.nn.BatchNorm2d(2 * width))
        self.features.add_module("relu2", torch.nn.ReLU())
        self.features.add_module("pool2", torch.nn.MaxPool2d(2))
        self.features.add_module("conv3", torch.nn.Conv2d(2 * width, 4 * width, 3, padding=1))
        self.features.add_module("bn3", torch.nn.BatchNorm2d(4 * width))
        self.features.add_module("relu3", torch.nn.ReLU())
        self.features.add_module("pool3", torch.nn.AdaptiveAvgPool2d((3, 3)))
        self.hidden = torch.nn.Linear(4 * width * 9, 8 * width)
        self.heads = torch.nn.Linear(8 * width, aus * dim)

    def forward(self, x):
        x = F.relu(self.hidden(self.features(x).flatten(1)))
        return F.normalize(self.heads(x).view(-1, self.aus, self.dim), p=2, dim=-1, eps=1e-12)


def build(m):
    aus, dim = len(m["au_names"]), m["feature_dim"]
    if m["encoder"] == "small-cnn":
        return SmallCnn(aus, m["width"], dim)
    if m["encoder"] == "resnet18":
        import torchvision
        return AuEncoder(ResNetTokens(torchvision.models.resnet18()), 512, aus, dim, m["neighbors"])
    raise ValueError(f"no PyTorch model for encoder {m['encoder']}")


def main(root):
    with open(os.path.join(root, "manifest.json")) as f:
        m = json.load(f)
    expected = {t["name"]: raw(root, t) for t in m["tensors"]}

    sd = torch.load(os.path.join(root, "encoder.pt"))
    st, st_meta = read_safetensors(os.path.join(root, "encoder.safetensors"))
    diffs = {}
    for label, got in (("pt", sd), ("safetensors", st)):
        if list(got.keys()) != list(expected.keys()):
            missing = [k for k in expected if k not in got]
            extra = [k for k in got if k not in expected]
            raise AssertionError(f"{label}: tensor names differ (missing {missing[:3]}, unexpected {extra[:3]})")
        worst = 0.0
        for name, want in expected.items():
            have = got[name]
            if tuple(have.shape) != tuple(want.shape) or have.dtype != want.dtype:
                raise AssertionError(f"{label}: {name} is {have.dtype}{tuple(have.shape)}, expected {want.dtype}{tuple(want.shape)}")
            worst = max(worst, float((have.double() - want.double()).abs().max()) if want.numel() else 0.0)
        diffs[label] = worst

    # The encoder, rebuilt in PyTorch from the .pt state dict alone (strict: every name must fit), in eval mode.
    model = build(m)
    if m["encoder"] == "resnet18":
        # torchvision's own ResNet takes the backbone's tensors as they are, once the "backbone." prefix is stripped.
        backbone_sd = {k[len("backbone."):]: v for k, v in sd.items() if k.startswith("backbone.")}
        result = model.backbone.net.load_state_dict(backbone_sd, strict=False)
        if result.unexpected_keys or any(not k.startswith("fc.") for k in result.missing_keys):
            raise AssertionError(f"torchvision resnet18: {result}")
        rest = {k: v for k, v in sd.items() if not k.startswith("backbone.")}
        result = model.load_state_dict(rest, strict=False)
        if result.unexpected_keys or any(not k.startswith("backbone.") for k in result.missing_keys):
            raise AssertionError(f"encoder: {result}")
    else:
        model.load_state_dict(sd, strict=True)
    model.eval()
    x = raw(root, m["input"])
    with torch.no_grad():
        y = model(x)
    want = raw(root, m["output"])
    forward = float((y.double() - want.double()).abs().max())

    meta_pt = dict(sd._metadata["aunce"])
    print(json.dumps({
        "pt_tensors": len(sd), "safetensors_tensors": len(st),
        "max_abs_diff_pt": diffs["pt"], "max_abs_diff_safetensors": diffs["safetensors"],
        "forward_max_abs_diff": forward, "metadata_pt": meta_pt, "metadata_safetensors": st_meta,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
