#!/usr/bin/env bash
# The search-quality benchmark in one command: AunceSearch's samplers x schedulers and Optuna 3.1 (TPE with Hyperband,
# successive halving and median pruning) on the real AUNCE learning-curve table (data/curves.csv, made by
# make-curves.sh) and on its parametric surrogate, 20 seeds, equal budgets of training epochs. Prints the table and
# the goals, and writes results/anytime.png.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seeds=${SEEDS:-20}; budget=${BUDGET:-240}
need=()
/usr/bin/python3 -c "import optuna" 2>/dev/null || need+=(python3-optuna)
/usr/bin/python3 -c "import matplotlib" 2>/dev/null || need+=(python3-matplotlib)
if [ ${#need[@]} -gt 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
dotnet build "$root/bench/AunceSearch.Bench/AunceSearch.Bench.csproj" -c Release -nologo -v q -clp:ErrorsOnly
bench="dotnet $root/bench/AunceSearch.Bench/bin/Release/net10.0/aunce-bench.dll"
out="$here/results"; mkdir -p "$out"
$bench search-quality "$here/data/curves.csv" "$out" --seeds "$seeds" --budget "$budget"
/usr/bin/python3 "$here/optuna_bench.py" "$here/data/curves.csv" "$out/surrogate.json" "$out" --seeds "$seeds" --budget "$budget"
$bench report "$out" | tee "$out/report.txt"
/usr/bin/python3 "$here/plot.py" "$out"
