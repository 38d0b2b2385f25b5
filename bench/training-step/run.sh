#!/usr/bin/env bash
# One AUNCE training step on the CPU (ResNet-18 + ANFL, 112 px, B=32, C=12, D=512, AdamW): TorchSharp (the product's own
# encoder, loss and flat AdamW; and TorchSharp's per-parameter AdamW) vs PyTorch (Debian python3-torch) measured in the
# same run, plus the image loader's throughput. Prints a table and ratios; asserts nothing. Usage: bench/training-step/run.sh
#
# A fair peer: Debian's python3-torch calls BLAS through libblas.so.3, which is netlib's *reference* BLAS unless an
# optimised one is installed, so this script installs OpenBLAS (libopenblas0-pthread, which takes over the libblas.so.3
# alternative) and prints which BLAS PyTorch resolves. Both sides run on all cores, one process at a time. PyTorch is
# measured with three threading set-ups (its OpenMP intra-op threads x OpenBLAS threads: N x 1, 1 x N, N x N) and its
# best median counts, so thread oversubscription cannot handicap it; TorchSharp uses libtorch's own threads (N).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
need=()
/usr/bin/python3 -c "import torch" 2>/dev/null || need+=(python3-torch)
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need+=(libopenblas0-pthread)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} (Debian) ..." >&2
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
fi
blas=$(/usr/bin/python3 -c "import torch, os; lib=os.path.join(os.path.dirname(torch.__file__), 'lib', 'libtorch_cpu.so'); print(lib)" | xargs ldd | awk '/libblas/{print $3}' | xargs readlink -f)
dotnet build -c Release bench/AunceSearch.TrainBench -nologo -v q >/dev/null
bench="dotnet bench/AunceSearch.TrainBench/bin/Release/net10.0/aunce-train-bench.dll"
steps=${STEPS:-30}
threads=${THREADS:-$(nproc)}
ts_flat=$($bench step --optimizer flat-adamw --steps "$steps" --threads "$threads")
ts_adamw=$($bench step --optimizer adamw --steps "$steps" --threads "$threads")
# PyTorch under three threading set-ups; the best median is its result (each set-up's numbers are printed too).
mkdir -p .build-cache
py_runs=()
for setup in "$threads 1" "1 $threads" "$threads $threads"; do
  set -- $setup
  py_runs+=("$(OMP_NUM_THREADS=$1 OPENBLAS_NUM_THREADS=$2 /usr/bin/python3 bench/training-step/torch_step.py --steps "$steps" --threads "$1" | \
    python3 -c "import json,sys; r=json.load(sys.stdin); r['setup']='torch threads $1, OpenBLAS threads $2'; print(json.dumps(r))")")
done
py=$(printf '%s\n' "${py_runs[@]}" | python3 -c "import json,sys; rs=[json.loads(l) for l in sys.stdin if l.strip()]; print(json.dumps(min(rs, key=lambda r: r['median_ms'])))")
printf '%s\n' "${py_runs[@]}" > .build-cache/torch-step-setups.jsonl
data=.aunce/data/synthetic-au-256
[ -d "$data/img" ] || ./aunce data synth "$data" --subjects 12 --images 60 --size 256 >/dev/null
loader=$($bench loader "$data/img" --size 256 --batch 32)
augment=$($bench augment --size 256 --batch 32)
mkdir -p .build-cache
python3 - "$ts_flat" "$ts_adamw" "$py" "$loader" "$augment" "$blas" <<'PY'
import json, sys
flat, adamw, py, loader, aug = (json.loads(a) for a in sys.argv[1:6])
print(f"PyTorch's BLAS: {sys.argv[6]}")
for line in open(".build-cache/torch-step-setups.jsonl"):
    r = json.loads(line); print(f"  PyTorch with {r['setup']}: median {r['median_ms']:.1f} ms, min {r['min_ms']:.1f} ms")
print(f"AUNCE training step, CPU, ResNet-18 + ANFL, 112 px, B=32, C=12, D=512 (median and min of {sys.argv[0] and ''}timed steps; PyTorch's best set-up: {py['setup']})")
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
