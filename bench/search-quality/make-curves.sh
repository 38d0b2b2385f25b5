#!/usr/bin/env bash
# Produces bench/search-quality/data/curves.csv: per-epoch, per-fold F1 of real AUNCE training runs of the synthetic
# task over an 81-point grid (curves.yaml), using AunceSearch's own sweep. Takes ~20 minutes on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
journal="$root/.aunce/bench-journal"
rm -rf "$journal"
"$root/aunce" sweep run "$here/curves.yaml" --journal "$journal" --config "Aunce:Checkpoints:Path=$root/.aunce/bench-checkpoints"
dir=$(ls -d "$journal"/bench-curves-* | tail -n 1)
mkdir -p "$here/data"
"$root/aunce" sweep status "$(basename "$dir")" --json --journal "$journal" > "$journal/status.json"   # from the sweep's record
/usr/bin/python3 "$here/journal_to_csv.py" "$journal/status.json" "$dir" > "$here/data/curves.csv"
rm -rf "$root/.aunce/bench-checkpoints"
echo "wrote $here/data/curves.csv ($(($(wc -l < "$here/data/curves.csv") - 1)) rows)"
