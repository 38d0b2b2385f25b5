#!/usr/bin/env bash
# The coordinator benchmark: epoch reports per second through the sweep, trial and fold grains of one embedded silo (as
# `aunce sweep run` composes it: file grain storage, local checkpoints) with a synthetic trainer, and the grain-state
# bytes written per report at 100, 1,000 and 10,000 trials. Goals (issue 11): >= 20,000 reports/s; bytes per report flat.
# Usage: bench/coordinator/run.sh [--trials 100,1000,10000] [--epochs 4] [--concurrency 64] [--seconds 60] [--scheduler asha|none]
#   asha (default): most reports end a leg at a rung (a trial lifecycle each); none: every trial reports every epoch.
#   --direct: the sweep grain alone (folds idle; the benchmark sends each fold epoch and trial epoch to it, --concurrency senders).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dotnet build -c Release "$root/bench/AunceSearch.CoordinatorBench" -nologo -v q -clp:ErrorsOnly >&2
exec dotnet "$root/bench/AunceSearch.CoordinatorBench/bin/Release/net10.0/aunce-coordinator-bench.dll" "$@"
