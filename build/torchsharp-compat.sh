#!/usr/bin/env bash
# TorchSharp 0.107's libLibTorchSharp.so needs GLIBCXX_3.4.32 (GCC 13's libstdc++) for one symbol,
# std::ios_base_library_init(). Debian 12 ships GCC 12's libstdc++ (up to GLIBCXX_3.4.30), so the load fails.
# This step, run automatically after every build (Directory.Build.targets) and only where the system
# libstdc++ lacks GLIBCXX_3.4.32, patches the build output's copy of the library:
#   1. builds libaunce_stdcxx_compat.so, which defines that symbol, next to it ($ORIGIN is on its RUNPATH);
#   2. unbinds the symbol from its version and marks the GLIBCXX_3.4.32 requirement weak (elf-weaken-version);
#   3. adds the compat library as a needed library (patchelf; installed from Debian's packages when missing).
# Idempotent; a no-op on systems with a newer libstdc++ (Ubuntu 24.04, Debian 13, the GPU images).
# Usage: torchsharp-compat.sh DIR [DIR...]   (each DIR holding a libLibTorchSharp.so, searched recursively)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
symbol=_ZSt21ios_base_library_initv
version=GLIBCXX_3.4.32
shim=libaunce_stdcxx_compat.so

# awk reads the whole listing (no early exit): with pipefail, an awk that quits first makes ldconfig die of SIGPIPE
# once its output outgrows the 64 KiB pipe buffer, and set -e would then end this script without a word.
stdcxx=$(/sbin/ldconfig -p 2>/dev/null | awk '!found && /libstdc\+\+\.so\.6 .*(x86-64|AArch64)/ {print $NF; found = 1}' || true)
[ -n "$stdcxx" ] || stdcxx=$(ls /usr/lib/*-linux-gnu/libstdc++.so.6 2>/dev/null | head -n1 || true)
if [ -z "$stdcxx" ] || grep -qa "$version" "$stdcxx"; then exit 0; fi

cache=${AUNCE_COMPAT_CACHE:-$here/../.build-cache/torchsharp-compat}
mkdir -p "$cache"
if [ ! -x "$cache/elf-weaken-version" ] || [ "$here/native/elf-weaken-version.c" -nt "$cache/elf-weaken-version" ]; then
  gcc -O2 -Wall -Werror -o "$cache/elf-weaken-version" "$here/native/elf-weaken-version.c"
fi
if [ ! -f "$cache/$shim" ] || [ "$here/native/stdcxx-compat.cpp" -nt "$cache/$shim" ]; then
  g++ -O2 -shared -fPIC -o "$cache/$shim" "$here/native/stdcxx-compat.cpp"
fi
if ! command -v patchelf >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "torchsharp-compat: installing patchelf (Debian package)" >&2
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf >/dev/null 2>&1) || \
      (apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf >/dev/null)
  else
    echo "torchsharp-compat: patchelf is required (apt-get install patchelf) to run TorchSharp on this libstdc++" >&2
    exit 1
  fi
fi

for dir in "$@"; do
  [ -d "$dir" ] || continue
  find "$dir" -name libLibTorchSharp.so -type f | while read -r so; do
    [ -f "$(dirname "$so")/$shim" ] || cp "$cache/$shim" "$(dirname "$so")/$shim"
    if patchelf --print-needed "$so" | grep -qx "$shim"; then continue; fi
    # The build hard-links copied files (Directory.Build.props): patch a private copy, never the NuGet cache's file.
    if [ "$(stat -c %h "$so")" -gt 1 ]; then cp -p "$so" "$so.unlinked" && mv -f "$so.unlinked" "$so"; fi
    "$cache/elf-weaken-version" "$so" "$version" "$symbol" >/dev/null
    patchelf --add-needed "$shim" "$so"
    echo "torchsharp-compat: patched $so" >&2
  done
done
