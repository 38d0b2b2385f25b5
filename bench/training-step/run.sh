#!/usr/bin/env bash
# One AUNCE training step on the CPU (ResNet-18 + ANFL, 112 px, B=32, C=12, D=512, AdamW): TorchSharp (the product's own
# encoder, loss and flat AdamW; and TorchSharp's per-parameter AdamW) vs PyTorch (Debian python3-torch) measured in the
# same run, plus the image loader's throughput. Prints a table and ratios; asserts nothing. Usage: bench/training-step/run.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "installing python3-torch (Debian) ..." >&2; apt-get install -y -qq python3-torch >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-torch >/dev/null; }; }
dotnet build -c Release bench/AunceSearch.TrainBench -nologo -v q >/dev/null
bench="dotnet bench/AunceSearch.TrainBench/bin/Release/net10.0/aunce-train-bench.dll"
steps=${STEPS:-20}
threads=${THREADS:-$(nproc)}
ts_flat=$($bench step --optimizer flat-adamw --steps "$steps" --threads "$threads")
ts_adamw=$($bench step --optimizer adamw --steps "$steps" --threads "$threads")
py=$(/usr/bin/python3 bench/training-step/torch_step.py --steps "$steps" --threads "$threads")
data=.aunce/data/synthetic-au-256
[ -d "$data/img" ] || ./aunce data synth "$data" --subjects 12 --images 60 --size 256 >/dev/null
loader=$($bench loader "$data/img" --size 256 --batch 32)
augment=$($bench augment --size 256 --batch 32)
python3 - "$ts_flat" "$ts_adamw" "$py" "$loader" "$augment" <<'PY'
import json, sys
flat, adamw, py, loader, aug = (json.loads(a) for a in sys.argv[1:])
print(f"AUNCE training step, CPU, ResNet-18 + ANFL, 112 px, B=32, C=12, D=512 (median of timed steps; {py['threads']} threads)")
print(f"{'implementation':44} {'median ms':>10} {'min ms':>8} {'speed vs PyTorch':>17}")
for name, r in [("PyTorch " + py['impl'].split()[1] + " (torch.optim.AdamW)", py), ("TorchSharp + AunceSearch flat AdamW", flat), ("TorchSharp + TorchSharp AdamW", adamw)]:
    print(f"{name:44} {r['median_ms']:>10.1f} {r['min_ms']:>8.1f} {py['median_ms'] / r['median_ms']:>16.2f}x")
ratio = py['median_ms'] / flat['median_ms']
print(f"goal: TorchSharp step >= 1.2x PyTorch: {ratio:.2f}x: {'MET' if ratio >= 1.2 else 'NOT MET'}")
print(f"image loader ({loader['images']} PNGs at {loader['size']} px, batches of {loader['batch']}, {loader['cores']} cores): "
      f"streaming decode {loader['decode_images_per_s']} images/s; decode + two 'enhance' views at {round(loader['size'] * 7 / 8)} px "
      f"{loader['decode_and_two_enhance_views_images_per_s']} images/s")
print(f"augmentation of one view, B={aug['batch']}, {aug['size']} px: basic {aug['basic_view_ms']} ms, enhance {aug['enhance_view_ms']} ms "
      f"(without colour jitter {aug['enhance_without_jitter_ms']} ms; hue of every image {aug['hue_all_images_ms']} ms; blur {aug['blur_ms']} ms)")
PY
