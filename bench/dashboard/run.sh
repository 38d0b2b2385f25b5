#!/usr/bin/env bash
# The dashboard at 100,000 trials: the HTTP API's latency per dashboard request and, in Debian's Chromium (Playwright),
# page load and the time per scroll and filter interaction, on a synthetic finished sweep of 100,000 trials served by an
# embedded silo (tests/AunceSearch.Api.Tests: ScaleTests and DashboardTests' 100,000-trial test measure; this repeats
# them and reports min and median over runs). Goals (issue 13), judged here and not in the tests (which only bound them
# loosely, so that a loaded runner cannot fail them): <= 200 ms per interaction (the slower of two tries, as the test
# measures), median interaction <= 100 ms, and each API request's median <= 200 ms. Exit code 1 when a goal is not met.
# Usage: bench/dashboard/run.sh [--runs 3]        (needs /usr/bin/chromium: ./test.sh installs it)
# No peer is run: optuna-dashboard (the tool users compare with) is neither a Debian package nor installable offline
# here, and it cannot display more than 10,000 trials (optuna-dashboard#385).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    *) echo "bench/dashboard/run.sh: unknown argument '$1' (usage: --runs N)" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench/dashboard/run.sh: --runs '$runs' must be a positive integer" >&2; exit 2; }
out=$(mktemp -d)
bin="$root/tests/AunceSearch.Api.Tests/bin/Release/net10.0"
dotnet build -c Release "$root/tests/AunceSearch.Api.Tests" -nologo -v q -clp:ErrorsOnly >&2
for i in $(seq 1 "$runs"); do
  echo "run $i of $runs" >&2
  dotnet test "$root/tests/AunceSearch.Api.Tests" -c Release --no-build --nologo \
    --filter "FullyQualifiedName~ScaleTests|FullyQualifiedName~At_100000_trials_the_table" >"$out/run$i.log" 2>&1 \
    || { echo "run $i failed:" >&2; tail -n 40 "$out/run$i.log" >&2; exit 1; }
  cp "$bin/dashboard-100k.json" "$out/dashboard$i.json"
  cp "$bin/api-latency.json" "$out/api$i.json"
done
python3 - "$out" "$runs" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
ui = [json.load(open(f"{out}/dashboard{i}.json")) for i in range(1, runs + 1)]
api = [json.load(open(f"{out}/api{i}.json")) for i in range(1, runs + 1)]
def line(name, values, unit="ms"):
    print(f"{name:<78} min {min(values):8.1f} {unit}   median {statistics.median(values):8.1f} {unit}")
print(f"dashboard at {ui[0]['trials']:,} trials, {runs} run(s); goal <= 200 ms per interaction")
line("page load (navigation to table, curves, parallel coordinates, simplex drawn)", [u["page_load_ms"] for u in ui])
line("scroll to rows never fetched (each interaction)", [v for u in ui for v in u["scroll_ms"]])
line("filter by state or minimum value (each interaction)", [v for u in ui for v in u["filter_ms"]])
interactions = [v for u in ui for v in u["scroll_ms"] + u["filter_ms"]]
worst = max(interactions)
median = statistics.median(interactions)
print(f"{'slowest interaction':<78} {worst:8.1f} ms   ({worst / 200:.2f} of the 200 ms goal)")
print("HTTP API (each request 7 times per run; 'first' pays for a new ordering)")
slow_api = []
for url in api[0]:
    medians = [a[url]["median_ms"] for a in api]
    line("  " + url.replace("/api/sweeps/large-100k", "…"), medians)
    line("    first", [a[url]["first_ms"] for a in api])
    if statistics.median(medians) > 200:
        slow_api.append(url)
goals = [("slowest interaction <= 200 ms", worst <= 200), ("median interaction <= 100 ms", median <= 100),
         ("every API request's median <= 200 ms", not slow_api)]
for name, met in goals:
    print(f"goal: {name}: {'MET' if met else 'NOT MET'}")
sys.exit(0 if all(met for _, met in goals) else 1)
PY
