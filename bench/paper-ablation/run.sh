#!/usr/bin/env bash
# The AUNCE paper's ablation (Tables VI, VII, VIII) reproduced by the platform itself: `aunce ablation` on a synthetic
# benchmark fixed in bench/paper-ablation/spec.yaml before any result was looked at (BP4D's 12 AU occurrence rates,
# 5 % label noise, 12 subjects in 3 subject-exclusive folds, the demo's small CNN), SEEDS seeds (default 3) per
# configuration. Prints the three tables with 95 % confidence intervals and the all-active baseline; writes
# bench/paper-ablation/results/{tables.txt,results.json,ablation.png}. About 35 minutes on 2 cores.
# Usage: bench/paper-ablation/run.sh   (SEEDS=N to change the number of seeds)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
out=bench/paper-ablation/results
mkdir -p "$out"
./aunce ablation bench/paper-ablation/spec.yaml --seeds "${SEEDS:-3}" --out "$out" --journal .aunce/ablation-journal
