#!/usr/bin/env python3
"""The scale benchmark (issue 12, item 7): real `aunce silo` processes on a loopback Redis, the fixed-cost trainer
(Aunce:Training:SimulatedEpochSeconds: every epoch sleeps exactly that long and uses no CPU), and `aunce sweep run` as
the client. Three measurements, each printed as one JSON line, then a summary:

  scaling   the same sweep on 1, 2 and 4 trainer silos: throughput (fold epochs per second) and efficiency against 1 silo
            (goal: >= 90 % at 4 silos, i.e. >= 3.6x).
  overhead  many one-epoch trials of --epoch-seconds each on 4 trainers: the sweep's span (its first event to its
            last, as the client stamps them: the client's start-up is not in it) against the ideal schedule
            ceil(trials / slots) x epoch (goal: <= 5 %).
  packing   the same run seen from the slots: share of slot-time busy = trials x epoch / (slots x wall) (goal: >= 85 %).

The coordinator silo's own CPU time (user + system, from /proc) is reported for each run: sleeping trainers cost nothing,
the coordinator's work is what is measured. Usage: bench/scale/run.sh [--trials 10000] [--slots 16] [--epoch-seconds 1]
[--scaling-trials 128] [--scaling-epochs 4]
"""
import argparse
import json
import math
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from aunce_bench import Cluster, Redis, cli, cpu_seconds, event_span, synth_data  # noqa: E402


def timed(cluster, spec_path, sweep_id, journal):
    code, out, err = cluster.sweep(spec_path, sweep_id, journal)
    span = event_span(out)
    if code != 0 or span is None:
        sys.exit(f"scale: sweep {sweep_id} failed ({code}):\n{out[-2000:]}\n{err[-2000:]}")
    return span


def spec(work, name, trials, epochs, concurrency):
    data = os.path.join(work, "data")
    path = os.path.join(work, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"""name: {name}
seed: 7
dataset: {{root: {data}, folds: [1], image_size: 32}}
training: {{epochs: {epochs}, device: cpu, max_attempts: 1}}
checkpoints: {{keep: best-k, k: 1}}
search:
  trials: {trials}
  max_concurrent_trials: {concurrency}
  sampler: random
  scheduler: {{kind: none}}
  space: {{lr: {{log_uniform: [1.0e-4, 1.0e-2]}} }}
""")
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=10000, help="one-epoch trials of the overhead run (default 10000)")
    p.add_argument("--slots", type=int, default=16, help="slots per trainer silo (default 16)")
    p.add_argument("--epoch-seconds", type=float, default=1.0, help="simulated seconds per epoch (default 1)")
    p.add_argument("--scaling-trials", type=int, default=128, help="trials of the scaling sweep (default 128)")
    p.add_argument("--scaling-epochs", type=int, default=4, help="epochs per trial of the scaling sweep (default 4)")
    p.add_argument("--skip-overhead", action="store_true", help="only the scaling runs")
    a = p.parse_args()
    if a.trials < 1 or a.slots < 1 or a.epoch_seconds <= 0 or a.scaling_trials < 1 or a.scaling_epochs < 1:
        sys.exit("scale: --trials, --slots, --scaling-trials and --scaling-epochs must be >= 1 and --epoch-seconds > 0")

    aunce = cli()
    work = tempfile.mkdtemp(prefix="aunce-scale.")
    journal = os.path.join(work, "journal")
    redis = Redis()
    results = []
    try:
        synth_data(aunce, os.path.join(work, "data"))

        # Scaling: the same work on 1, 2, 4 trainers; enough concurrency to fill 4 silos.
        scaling_spec = spec(work, "scaling", a.scaling_trials, a.scaling_epochs, a.scaling_trials)
        base = None
        for trainers in (1, 2, 4):
            cluster = Cluster(aunce, work, redis.address, trainers, a.slots, a.epoch_seconds)
            try:
                timed(cluster, spec(work, "warm", 1, 1, 1), f"warm-{cluster.id}", journal)   # JIT and connections warm, as in a long sweep
                cpu0 = cpu_seconds(cluster.coordinator.proc.pid)
                wall = timed(cluster, scaling_spec, f"scaling-{cluster.id}", journal)
                cpu = cpu_seconds(cluster.coordinator.proc.pid) - cpu0
            finally:
                cluster.stop()
            epochs = a.scaling_trials * a.scaling_epochs
            ideal = math.ceil(a.scaling_trials / (trainers * a.slots)) * a.scaling_epochs * a.epoch_seconds
            throughput = epochs / wall
            base = base or throughput
            row = {"run": "scaling", "trainers": trainers, "slots": trainers * a.slots, "trials": a.scaling_trials,
                   "epochs": epochs, "wall_s": round(wall, 2), "ideal_s": ideal, "fold_epochs_per_s": round(throughput, 2),
                   "speedup": round(throughput / base, 3), "efficiency": round(throughput / base / trainers, 3),
                   "vs_ideal": round(ideal / wall, 3), "coordinator_cpu_s": round(cpu, 2)}
            results.append(row)
            print(json.dumps(row), flush=True)

        if not a.skip_overhead:
            cluster = Cluster(aunce, work, redis.address, 4, a.slots, a.epoch_seconds)
            try:
                timed(cluster, spec(work, "warm", 1, 1, 1), f"warm-{cluster.id}", journal)
                slots = 4 * a.slots
                cpu0 = cpu_seconds(cluster.coordinator.proc.pid)
                wall = timed(cluster, spec(work, "overhead", a.trials, 1, slots * 2), f"overhead-{cluster.id}", journal)
                cpu = cpu_seconds(cluster.coordinator.proc.pid) - cpu0
            finally:
                cluster.stop()
            ideal = math.ceil(a.trials / slots) * a.epoch_seconds
            row = {"run": "overhead", "trainers": 4, "slots": slots, "trials": a.trials, "epoch_s": a.epoch_seconds,
                   "wall_s": round(wall, 2), "ideal_s": ideal, "overhead": round((wall - ideal) / ideal, 4),
                   "slot_busy_share": round(a.trials * a.epoch_seconds / (slots * wall), 4),
                   "coordinator_cpu_s": round(cpu, 2), "coordinator_cpu_per_trial_ms": round(1000 * cpu / a.trials, 3)}
            results.append(row)
            print(json.dumps(row), flush=True)
    finally:
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print("summary (goals: efficiency >= 0.90 at 4 trainers; overhead <= 5 %; slot busy share >= 85 %)")
    for r in results:
        if r["run"] == "scaling":
            print(f"  {r['trainers']} trainer(s), {r['slots']:>3} slots: {r['fold_epochs_per_s']:8.2f} fold epochs/s, "
                  f"speedup {r['speedup']:.2f}x, efficiency {100 * r['efficiency']:.1f} %, coordinator CPU {r['coordinator_cpu_s']:.1f} s")
        else:
            print(f"  {r['trials']} trials x {r['epoch_s']} s on {r['slots']} slots: wall {r['wall_s']} s, "
                  f"ideal {r['ideal_s']} s, overhead {100 * r['overhead']:.1f} %, slot busy {100 * r['slot_busy_share']:.1f} %, "
                  f"coordinator CPU {r['coordinator_cpu_per_trial_ms']} ms/trial")


if __name__ == "__main__":
    main()
