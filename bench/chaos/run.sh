#!/usr/bin/env bash
# The chaos benchmark (issue 12): a sweep on redis-server, Azurite, a coordinator and three trainer silos (real processes
# on loopback, the fixed-cost trainer) while trainers are killed and hung, the coordinator is killed and Azurite stops for
# 30 s, at seeded moments of each run. See chaos.py for what is measured.
# Usage: bench/chaos/run.sh [--runs 20] [--seed 1] [--trials 24] [--epochs 6] [--epoch-seconds 1.5] [--slots 4]
set -euo pipefail
exec python3 "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/chaos.py" "$@"
