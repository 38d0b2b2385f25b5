#!/usr/bin/env bash
# The scale benchmark (issue 12): 1 -> 2 -> 4 trainer silos with the fixed-cost trainer, 10,000-trial overhead against the
# ideal schedule, and slot packing. Real `aunce silo` processes on a loopback redis-server; see scale.py for what is
# measured and how. Usage: bench/scale/run.sh [--trials 10000] [--slots 16] [--epoch-seconds 1] [--skip-overhead]
set -euo pipefail
exec python3 "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scale.py" "$@"
