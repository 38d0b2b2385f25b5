#!/usr/bin/env bash
# The GPU check, one command. On a machine with a CUDA GPU and PyTorch it builds nothing: it unpacks what
# bench/gpu/build.sh made here (bench/gpu/dist, carried along) and, in about 5 minutes, prints
#   1. one AUNCE training step of ResNet-50 + ANFL at 224 px (C = 12, D = 1024), B = 64 and B = 256, fp32 and
#      bf16 autocast + channels_last: TorchSharp (AunceSearch's encoder, loss and flat AdamW) against the machine's
#      PyTorch eager (bench/gpu/peer.py, the same model and loss), images/s and ratios;
#   2. the AUNCE loss's share of the B = 64 fp32 step;
#   3. a numeric parity check of one fp32 step against PyTorch: same weights and inputs; PyTorch also computes the step
#      in fp64, and TorchSharp's loss and every gradient must be within 1e-4 relative of the fp64 ones, or within 4x of
#      PyTorch's own fp32 distance from them where rounding alone goes further (TF32 off on both sides);
#   4. a 2-trial AunceSearch sweep on the GPU (synthetic data, ResNet-18 + ANFL).
# --quick (for a short GPU window, sized for <= 3 minutes on one H100 including start-up): one step-time comparison (B = 64,
# bf16 autocast + NHWC), the parity check and a 1-trial, 1-epoch sweep. The full run is sized for <= 6 minutes (10 timed
# steps after 3 warm-up steps per configuration). Both sizes are estimates: no GPU has been lent to this project yet.
# It checks that the machine's PyTorch is the libtorch version TorchSharp was built for (bench/gpu/build.sh records it)
# and says so; a different major.minor fails unless AUNCE_ALLOW_LIBTORCH_MISMATCH=1.
# --dry-run-cpu runs the same flow with tiny sizes on the CPU (Debian's python3-torch as the peer; TorchSharp on the
# CPU libtorch from the NuGet cache), so the script is known to work before a GPU is available; ./test.sh runs it.
# What to carry to the GPU machine: bench/gpu/dist (about 16 MB, plus 70 MB for the .NET runtime when it has none).
# Exit code 0 only if every part ran and parity held. Usage: bench/gpu/run.sh [--quick] [--dry-run-cpu]
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dist="${AUNCE_GPU_DIST:-$root/bench/gpu/dist}"
mode=gpu; quick=0
for a in "$@"; do
  case "$a" in
    --dry-run-cpu) mode=cpu ;;
    --quick) quick=1 ;;
    *) echo "bench/gpu/run.sh: unknown argument '$a' (usage: [--quick] [--dry-run-cpu])" >&2; exit 2 ;;
  esac
done
die() { echo "bench/gpu/run.sh: $*" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
started=$SECONDS

[ -f "$dist/aunce-gpu.tar.xz" ] || die "$dist/aunce-gpu.tar.xz not found: run bench/gpu/build.sh first (on the build machine) and carry bench/gpu/dist"
tar -xJf "$dist/aunce-gpu.tar.xz" -C "$work" || die "cannot unpack $dist/aunce-gpu.tar.xz"
app="$work/app"
if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-runtimes 2>/dev/null | grep -q '^Microsoft.AspNetCore.App 10\.'; then
  [ -f "$dist/dotnet-runtime.tar.xz" ] || die "no .NET 10 runtime here and no $dist/dotnet-runtime.tar.xz"
  mkdir -p "$work/dotnet" && tar -xJf "$dist/dotnet-runtime.tar.xz" -C "$work/dotnet" || die "cannot unpack the .NET runtime"
  export DOTNET_ROOT="$work/dotnet" PATH="$work/dotnet:$PATH" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
fi
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# The PyTorch peer: the first Python that imports torch (on the GPU machine: with CUDA).
py=""
for candidate in ${PYTHON:-} /opt/torch/.venv/bin/python3 python3 /usr/bin/python3; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  if [ "$mode" = gpu ]; then
    "$candidate" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null && { py=$candidate; break; }
  else
    "$candidate" -c "import torch" 2>/dev/null && { py=$candidate; break; }
  fi
done
[ -n "$py" ] || die "no Python with PyTorch$([ "$mode" = gpu ] && echo " and CUDA") found (set PYTHON=...)"

if [ "$mode" = gpu ]; then
  # TorchSharp runs on the machine's own libtorch (the PyTorch wheel's, with CUDA).
  export AUNCE_LIBTORCH_DIR=$("$py" -c "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))")
  device=cuda; encoder=resnet50; width=64; size=224; dim=1024; batches="64 256"; steps=10; warmup=3
  parity_args="--encoder resnet50 --width 64 --size 224 --batch 8 --dim 1024"; sweep_size=64; sweep_width=16; sweep_epochs=2
else
  # The CPU libtorch TorchSharp was built against (Debian's python3-torch 1.13 is too old for TorchSharp 0.107).
  lt=$(ls -d "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/libtorch-cpu-linux-x64/*/runtimes/linux-x64/native 2>/dev/null | tail -n1)
  [ -n "$lt" ] || die "the CPU libtorch (NuGet package libtorch-cpu-linux-x64) is not in the NuGet cache: run dotnet restore first"
  export AUNCE_LIBTORCH_DIR="$lt"
  bash "$root/build/torchsharp-compat.sh" "$app" || die "TorchSharp compatibility step failed"
  device=cpu; encoder=resnet18; width=8; size=32; dim=16; batches="4 8"; steps=2; warmup=1
  parity_args="--encoder resnet18 --width 8 --size 32 --batch 4 --dim 16"; sweep_size=32; sweep_width=4; sweep_epochs=1
fi
configs="fp32 bf16-cl"; sweep_trials=2
if [ $quick -eq 1 ]; then
  batches=$(echo "$batches" | cut -d' ' -f1); configs="bf16-cl"; sweep_trials=1; sweep_epochs=1
fi
echo "bench/gpu/run.sh: mode $mode$([ $quick -eq 1 ] && echo ' (quick)'); peer $("$py" -c 'import torch; print("pytorch", torch.__version__, "cuda", torch.version.cuda)'); libtorch for TorchSharp: $AUNCE_LIBTORCH_DIR"
# TorchSharp 0.107 calls into the libtorch it was built for: another major.minor may fail to load or misbehave.
built_for=$(cat "$app/libtorch-version.txt" 2>/dev/null || echo unknown)
if [ "$mode" = gpu ]; then
  have=$("$py" -c 'import torch; print(torch.__version__.split("+")[0])')
  if [ "${have%.*}" = "${built_for%.*}" ]; then
    echo "libtorch: the machine's PyTorch $have matches the $built_for TorchSharp was built for"
  elif [ "${AUNCE_ALLOW_LIBTORCH_MISMATCH:-0}" = 1 ]; then
    echo "libtorch: WARNING: the machine's PyTorch is $have, TorchSharp was built for $built_for (AUNCE_ALLOW_LIBTORCH_MISMATCH=1: going on)"
  else
    die "the machine's PyTorch is $have but TorchSharp 0.107 was built for libtorch $built_for: install torch==$built_for (or set AUNCE_ALLOW_LIBTORCH_MISMATCH=1)"
  fi
else
  echo "libtorch: the NuGet CPU libtorch ($built_for, what TorchSharp was built for); the peer is Debian's PyTorch"
fi
if [ "$mode" = gpu ]; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /'; fi

bench() { dotnet "$app/aunce-train-bench.dll" "$@"; }
failed=0
: > "$work/steps.jsonl"
# 1 + 2: training steps, both sides, every configuration.
for b in $batches; do
  for cfg in $configs; do
    if [ "$cfg" = fp32 ]; then ts_flags=(); py_flags=(); else ts_flags=(--amp bf16 --channels-last on); py_flags=(--amp bf16 --channels-last); fi
    common=(--encoder "$encoder" --width "$width" --size "$size" --batch "$b" --dim "$dim" --steps "$steps" --warmup "$warmup" --device "$device")
    ts=$(bench step "${common[@]}" "${ts_flags[@]}" 2>"$work/err") || { echo "TorchSharp step $cfg B=$b failed: $(tail -n 3 "$work/err")" >&2; failed=1; continue; }
    pt=$("$py" "$root/bench/gpu/peer.py" step "${common[@]}" "${py_flags[@]}" 2>"$work/err") || { echo "PyTorch step $cfg B=$b failed: $(tail -n 3 "$work/err")" >&2; failed=1; continue; }
    echo "{\"batch\": $b, \"config\": \"$cfg\", \"torchsharp\": $ts, \"pytorch\": $pt}" >> "$work/steps.jsonl"
  done
done

# 3: parity of one fp32 step.
"$py" "$root/bench/gpu/peer.py" parity "$work/parity" $parity_args --device "$device" > "$work/parity-py.json" 2>"$work/err" \
  || { echo "PyTorch parity export failed: $(tail -n 3 "$work/err")" >&2; failed=1; }
parity=$(bench parity "$work/parity" --device "$device" 2>"$work/err") || { echo "TorchSharp parity failed: $(tail -n 3 "$work/err")" >&2; failed=1; }
echo "${parity:-{\}}" > "$work/parity.json"

# 4: a 2-trial sweep.
cat > "$work/sweep.yaml" <<YAML
name: gpu-check
seed: 1
dataset:
  root: $work/data
  folds: [1]
  image_size: $sweep_size
  synthetic: {subjects: 6, images_per_subject: 40, image_size: $sweep_size, folds: 3, seed: 1}
model: {encoder: resnet18, width: $sweep_width, feature_dim: 32}
training: {epochs: $sweep_epochs, batch_size: 32, probe_steps: 20, device: $device}
search:
  trials: $sweep_trials
  sampler: random
  scheduler: {kind: none}
  space:
    lr: {log_uniform: [1.0e-4, 1.0e-2]}
YAML
(cd "$work" && dotnet "$app/aunce.dll" sweep run "$work/sweep.yaml" > "$work/sweep.log" 2>&1)
sweep_rc=$?
[ $sweep_rc -eq 0 ] || { echo "sweep failed (exit $sweep_rc):" >&2; tail -n 15 "$work/sweep.log" >&2; failed=1; }

"$py" - "$work/steps.jsonl" "$work/parity.json" "$work/sweep.log" "$mode" "$encoder" "$size" "$dim" $((SECONDS - started)) "$work" <<'PY'
import json, sys
steps_file, parity_file, sweep_log, mode, encoder, size, dim, seconds, work = sys.argv[1:]
rows = [json.loads(l) for l in open(steps_file) if l.strip()]
print(f"\nAUNCE training step, {encoder} + ANFL, {size} px, C = 12, D = {dim}, device {mode.replace('cpu', 'cpu (dry run)').replace('gpu', 'cuda')} (median [min] of timed steps)")
print(f"{'batch':>5} {'config':<22} {'TorchSharp img/s':>17} {'PyTorch img/s':>14} {'ratio':>6}   {'TorchSharp ms':>16} {'PyTorch ms':>16}")
for r in rows:
    t, p = r["torchsharp"], r["pytorch"]
    cfg = "fp32" if r["config"] == "fp32" else ("bf16 autocast + NHWC" if mode == "gpu" else "NHWC (autocast: CUDA)")
    print(f"{r['batch']:>5} {cfg:<22} {t['images_per_s']:>17.1f} {p['images_per_s']:>14.1f} {t['images_per_s'] / p['images_per_s']:>5.2f}x"
          f"   {t['median_ms']:>8.1f} [{t['min_ms']:>6.1f}] {p['median_ms']:>8.1f} [{p['min_ms']:>6.1f}]")
first = next((r for r in rows if r["config"] == "fp32"), None)
if first:
    t, p = first["torchsharp"], first["pytorch"]
    print(f"AUNCE loss (forward + backward) share of the B = {first['batch']} fp32 step: TorchSharp {t['loss_ms']:.2f} ms = {100 * t['loss_ms'] / t['median_ms']:.1f} %, "
          f"PyTorch {p['loss_ms']:.2f} ms = {100 * p['loss_ms'] / p['median_ms']:.1f} % (goal <= 3 %)")
    if mode == "gpu":
        for r in rows:
            goal = 1.00 if (r["batch"] == 256 and r["config"] != "fp32") else 0.95 if r["batch"] == 64 else None
            if goal is not None:
                ratio = r["torchsharp"]["images_per_s"] / r["pytorch"]["images_per_s"]
                print(f"goal: B = {r['batch']} {r['config']} ratio {ratio:.2f}x >= {goal:.2f}x: {'MET' if ratio >= goal else 'NOT MET'}")
try:
    par = json.load(open(parity_file))
    print(f"parity of one fp32 step against the same step in fp64 ({par['encoder']}, {par['tensors']} tensors, {par['not_judged']} biases feeding a BatchNorm not judged): "
          f"TorchSharp loss {par['loss_rel']:.2e}, worst gradient {par['worst_grad_rel']:.2e} ({par['worst_grad']}); PyTorch fp32 worst gradient "
          f"{par['peer_worst_grad_rel']:.2e} ({par['peer_worst_grad']}); bound max({par['tolerance']:.0e}, 4 x PyTorch's) = {par['bound']:.2e}: "
          f"{'PASS' if par['pass'] else 'FAIL'}; parameters after one AdamW step vs PyTorch's (reported) worst {par['worst_param_rel']:.2e} ({par['worst_param']})")
except Exception as e:
    print(f"parity: no result ({e})")
# Paths relative to the run's temporary folder (removed at exit): output that is recorded must not name one machine's.
best = [l.strip().replace(work + "/", "./") for l in open(sweep_log) if l.startswith("best:") or l.startswith("wall time")]
print("sweep on the device: " + ("; ".join(best) if best else "FAILED"))
print(f"total {seconds} s")
PY
grep -q '"pass": true' "$work/parity.json" || failed=1
[ "$failed" -eq 0 ] && echo "bench/gpu/run.sh: all parts ran, parity held" || echo "bench/gpu/run.sh: FAILED (see above)" >&2
exit "$failed"
