#!/usr/bin/env bash
# Runs every AunceSearch test project. Installs what the tests need (Debian packages, Azurite from npm), starts
# the servers they talk to on loopback (Azurite blob storage, Redis), stops them by PID, and ends with the line
# "N passed, N failed, N skipped" summed over all test projects. Exit code 0 only if nothing failed.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache="$root/.build-cache"
mkdir -p "$cache"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
cd "$root"
start=$SECONDS
log() { echo "test.sh: $*" >&2; }

# --- prerequisites -------------------------------------------------------------------------------------------
missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v patchelf >/dev/null 2>&1 || missing+=(patchelf)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)   # Orleans Redis clustering and grain storage (the cluster test)
/usr/bin/python3 -c "import optuna" >/dev/null 2>&1 || missing+=(python3-optuna)
/usr/bin/python3 -c "import torch" >/dev/null 2>&1 || missing+=(python3-torch)   # the PyTorch peer of bench/gpu/run.sh --dry-run-cpu
/usr/bin/python3 -c "import torchvision" >/dev/null 2>&1 || missing+=(python3-torchvision)   # ExportTests: exports rebuilt as torchvision models
/usr/bin/python3 -c "import pandas" >/dev/null 2>&1 || missing+=(python3-pandas)   # SweepExportTests: pandas reads the exported tables
command -v chromium >/dev/null 2>&1 || missing+=(chromium)   # DashboardTests: Playwright drives Debian's chromium (no browser download)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)   # PrometheusTests: every Grafana panel's PromQL against a real Prometheus
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)   # DeploymentFilesTests: kubectl kustomize deploy/k8s renders the manifests
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1) || { apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null; } \
    || { log "could not install ${missing[*]}"; exit 1; }
fi
azurite_dir="$cache/azurite"
if [ ! -x "$azurite_dir/node_modules/.bin/azurite-blob" ]; then
  log "installing Azurite 3.37.0 (npm)"
  mkdir -p "$azurite_dir"
  [ -f "$azurite_dir/package.json" ] || echo '{"name":"aunce-test-servers","private":true}' > "$azurite_dir/package.json"
  (cd "$azurite_dir" && npm install --no-audit --no-fund --loglevel=error azurite@3.37.0 >/dev/null) || { log "npm install azurite failed"; exit 1; }
fi

# Optuna 3.1 (Debian's python3-optuna) as a live peer: fresh pruner traces from its own pruners, replayed by the tests.
optuna_traces="$cache/optuna-traces"
rm -rf "$optuna_traces"
/usr/bin/python3 tests/tools/optuna_traces.py "$optuna_traces" --count 10 --seed "${AUNCE_OPTUNA_SEED:-1}" >"$cache/optuna-traces.log" 2>&1 \
  || { log "generating Optuna traces failed (see $cache/optuna-traces.log)"; exit 1; }
export AUNCE_TEST_OPTUNA_TRACES="$optuna_traces"

# --- servers on loopback --------------------------------------------------------------------------------------
# Every temporary file of the run (test datasets, checkpoints, silo state, browser profiles) goes under one folder,
# removed at the end: a run leaves nothing behind in /tmp (a few hundred MB per run otherwise, which filled a disk).
tmp_root=$(mktemp -d "${TMPDIR:-/tmp}/aunce-test.XXXXXX") || { log "cannot create a temporary folder"; exit 1; }
export TMPDIR="$tmp_root"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$tmp_root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}
wait_port() { # port seconds
  local end=$(( SECONDS + $2 ))
  while [ $SECONDS -lt $end ]; do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done
  return 1
}

blob_port=$(free_port)
"$azurite_dir/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$blob_port" --inMemoryPersistence \
  --disableTelemetry --skipApiVersionCheck --silent >"$cache/azurite.log" 2>&1 &
pids+=($!)
wait_port "$blob_port" 30 || { log "Azurite did not start (see $cache/azurite.log)"; exit 1; }
# Azurite's well-known development account (public, documented by Microsoft).
export AUNCE_TEST_AZURITE_BLOB="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$blob_port/devstoreaccount1;"
log "Azurite blob on 127.0.0.1:$blob_port (pid ${pids[0]})"

redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --protected-mode yes >"$cache/redis.log" 2>&1 &
pids+=($!)
wait_port "$redis_port" 30 || { log "Redis did not start (see $cache/redis.log)"; exit 1; }
export AUNCE_TEST_REDIS="127.0.0.1:$redis_port"
log "Redis on 127.0.0.1:$redis_port (pid ${pids[1]})"

# --- build and test -------------------------------------------------------------------------------------------
if ! dotnet build AunceSearch.sln -nologo -v q -clp:ErrorsOnly; then
  log "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

passed=0; failed=0; skipped=0; broken=0
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  out="$cache/$name.test.log"
  dotnet test "$proj" --no-build --nologo 2>&1 | tee "$out"
  summary=$(grep -E '^(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$out" | tail -n 1)
  if [ -z "$summary" ]; then
    log "$name: no test summary (the test host crashed?); counting the project as one failure"
    broken=$((broken + 1)); failed=$((failed + 1)); continue
  fi
  f=$(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$summary")
  p=$(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$summary")
  s=$(sed -E 's/.*Skipped: +([0-9]+),.*/\1/' <<<"$summary")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done

# The GPU check's CPU dry run (bench/gpu/run.sh --dry-run-cpu): the carried build, both sides of the step table, the
# parity check against PyTorch and a 2-trial sweep, with tiny sizes, then the --quick flow the same way; counted as one test.
gpu_log="$cache/gpu-dry-run.log"
export AUNCE_GPU_DIST="$cache/gpu-dist"   # its own folder: a full bench/gpu/dist built for a GPU machine stays as it is
if bench/gpu/build.sh --no-runtime >"$gpu_log" 2>&1 && bench/gpu/run.sh --dry-run-cpu >>"$gpu_log" 2>&1 \
   && bench/gpu/run.sh --quick --dry-run-cpu >>"$gpu_log" 2>&1; then
  passed=$((passed + 1)); log "bench/gpu/run.sh --dry-run-cpu passed"
else
  failed=$((failed + 1)); log "bench/gpu/run.sh --dry-run-cpu FAILED:"; tail -n 30 "$gpu_log" >&2
fi
sed -n '/^AUNCE training step/,$p' "$gpu_log"

log "all test projects ran in $((SECONDS - start)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$broken" -eq 0 ]
