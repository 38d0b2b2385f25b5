#!/usr/bin/env bash
# Builds what bench/gpu/run.sh needs on a GPU machine into bench/gpu/dist (ignored by git; carried to the machine):
#   dist/aunce-gpu.tar.xz       aunce-train-bench and the aunce CLI in one framework-dependent folder, without the CPU
#                               libtorch: TorchSharp loads the machine's PyTorch libtorch (with CUDA) via AUNCE_LIBTORCH_DIR
#   dist/dotnet-runtime.tar.xz  the .NET and ASP.NET Core runtimes, for machines without .NET
# Usage: bench/gpu/build.sh [--no-runtime]   (--no-runtime: skip the runtime tarball, for a dry run where .NET exists)
set -euo pipefail
export XZ_OPT=${XZ_OPT:--6 -T0}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dist="${AUNCE_GPU_DIST:-$root/bench/gpu/dist}"
stage="$root/.build-cache/gpu-stage"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
rm -rf "$dist" "$stage"
mkdir -p "$dist" "$stage/app"
# AunceLibTorch=none also moves obj/ and bin/ under .build-cache/no-libtorch (Directory.Build.props), so the normal
# build's outputs are untouched. Both programs share one folder: their dependencies are the same versions (central
# package management), so each library is carried once.
for p in bench/AunceSearch.TrainBench src/AunceSearch.Cli; do
  dotnet publish "$root/$p" -c Release -r linux-x64 --self-contained false -p:AunceLibTorch=none -o "$stage/app" -nologo -v q
done
# The libtorch version TorchSharp was built against (run.sh compares the machine's PyTorch with it).
sed -n 's/.*Include="libtorch-cpu-linux-x64" Version="\([^"]*\)".*/\1/p' "$root/Directory.Packages.props" > "$stage/app/libtorch-version.txt"
tar -cJf "$dist/aunce-gpu.tar.xz" -C "$stage" app
if [ "${1:-}" = "--no-runtime" ]; then
  du -sh "$dist"/* | awk '{print "bench/gpu/build.sh: " $2 " " $1}'
  exit 0
fi
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
# Each framework's newest version, where `dotnet --list-runtimes` says it is ("NAME VERSION [DIR]"), relative to the
# installation's root: the runtime archive holds exactly what a framework-dependent app of this SDK needs.
framework() {
  dotnet --list-runtimes | awk -v name="$1" '$1 == name {v = $2; d = $3} END {gsub(/^\[|\]$/, "", d); print d "/" v}' \
    | xargs realpath --relative-to="$dotnet_root"
}
tar -cJf "$dist/dotnet-runtime.tar.xz" -C "$dotnet_root" dotnet host "$(framework Microsoft.NETCore.App)" "$(framework Microsoft.AspNetCore.App)"
du -sh "$dist"/* | awk '{print "bench/gpu/build.sh: " $2 " " $1}'
