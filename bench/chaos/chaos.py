#!/usr/bin/env python3
"""The chaos benchmark (issue 12, item 6): real processes on loopback — redis-server (membership, grain state,
reminders), Azurite (checkpoints, on disk), one coordinator silo and three trainer silos with the fixed-cost trainer — run
a sweep of --trials trials x 2 folds while, at seeded random moments of each run:

  * one trainer silo is killed (SIGKILL) and restarted 3 s later,
  * another is hung (SIGSTOP) for 20 s, then continued (declared dead meanwhile, it stops itself and is restarted),
  * the coordinator silo is killed (SIGKILL) and restarted 2 s later,
  * Azurite is stopped for 30 s, then started again on the same files.

One failure-free run with the same seed comes first; it gives the ranking every run must end with. Each run prints one
JSON line {run, trials_total, trials_completed, trials_failed, folds_resumed, epochs_lost_max, checkpoints_lost,
ranking_identical_to_clean_run, wall_s} and a summary follows. Goal: every run with 0 trials lost, <= 1 epoch lost per
affected fold, 0 checkpoints lost and the clean run's ranking.

  trials_completed  trials that ended completed or pruned (a scheduler's decision, as in the clean run)
  folds_resumed     fold restarts from a checkpoint beyond those of the clean run (promotions resume too)
  epochs_lost_max   the most epochs any one fold trained twice (from every trainer's log, killed ones included)
  checkpoints_lost  fold epochs the sweep's journal records whose checkpoint blob is missing from Azurite

Usage: bench/chaos/run.sh [--runs 20] [--seed 1] [--trials 24] [--epochs 6] [--epoch-seconds 1.5] [--slots 4]
       [--scheduler none|hyperband_sync] [--grace-period 2] [--keep]
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from aunce_bench import Azurite, Cluster, Redis, cli, synth_data  # noqa: E402

CONTAINER = "aunce-checkpoints"


def write_spec(work, a):
    scheduler = f"{{kind: hyperband_sync, grace_period: {a.grace_period}, reduction_factor: 2}}" if a.scheduler == "hyperband_sync" else "{kind: none}"
    path = os.path.join(work, "chaos.yaml")
    with open(path, "w") as f:
        f.write(f"""name: chaos
seed: {a.seed}
dataset: {{root: {os.path.join(work, 'data')}, folds: [1, 2], image_size: 32}}
training: {{epochs: {a.epochs}, device: cpu}}
checkpoints: {{keep: all}}
search:
  trials: {a.trials}
  max_concurrent_trials: {a.trials}
  sampler: random
  scheduler: {scheduler}
  space: {{lr: {{log_uniform: [1.0e-4, 1.0e-2]}} }}
""")
    return path


def fold_lines(logs, sweep_id):
    """(fold, epoch) for every epoch a fold of this sweep finished, across the given logs."""
    pattern = re.compile(rf"Fold ({re.escape(sweep_id)}/t\d+/f\d+) epoch (\d+):")
    return [(m.group(1), int(m.group(2))) for log in logs for m in pattern.finditer(log)]


def resumes(logs, sweep_id):
    return sum(len(re.findall(rf"Fold {re.escape(sweep_id)}/t\d+/f\d+ resumes from", log)) for log in logs)


def outcome(status):
    """Each trial's end as the sweep's final status (`aunce sweep status --json`: its record) has it: (trial, state, last epoch, last value)."""
    states = ["pending", "running", "completed", "pruned", "failed", "paused"]   # TrialState's values
    rows = []
    for t in status["Trials"]:
        state = t["State"] if isinstance(t["State"], str) else states[t["State"]]
        value = t.get("LastValue")
        rows.append((t["Trial"], state.lower(), t.get("LastEpoch"), None if value is None else round(value, 6)))
    return sorted(rows)


def journal_keys(journal, sweep_id):
    keys = set()
    with open(os.path.join(journal, sweep_id, "events.jsonl")) as f:
        for line in f:
            e = json.loads(line)
            if e["Kind"] == "fold-epoch":
                keys.add(f"{sweep_id}/t{e['Trial']:03d}/f{e['Fold']}/e{e['Epoch']:04d}.ckpt")
    return keys


def follow_to_end(cluster, sweep_id, journal, deadline):
    """`aunce sweep resume` until the sweep has ended (a follower that lost the cluster is started again)."""
    last = ""
    while time.time() < deadline:
        code, out, err = cluster.follow(sweep_id, journal)
        last = out + err
        if code == 0:
            return out
        time.sleep(1)
    sys.exit(f"chaos: sweep {sweep_id} did not end in time:\n{last[-3000:]}")


class Chaos:
    """Carries out one run's failures at their moments, and keeps the trainers that should be up, up."""

    def __init__(self, cluster, azurite, rng, log):
        self.cluster, self.azurite, self.log = cluster, azurite, log
        self.stop_flag = threading.Event()
        killed, hung = rng.sample(range(len(cluster.trainers)), 2)
        self.plan = sorted([
            (rng.uniform(3, 15), "kill trainer", killed),
            (rng.uniform(3, 15), "hang trainer", hung),
            (rng.uniform(6, 20), "kill coordinator", None),
            (rng.uniform(3, 12), "stop azurite", None),
        ])
        self.held = set()   # trainers the plan has down on purpose (not restarted by the watchdog meanwhile)
        self.lock = threading.Lock()

    def stop(self):
        """Ends the run's failures: after this nothing the plan stopped is started again (the clean-up stops everything)."""
        with self.lock:
            self.stop_flag.set()

    def _restart(self, start):
        """Starts what the plan stopped, unless the run is over; the caller holds the lock."""
        if not self.stop_flag.is_set():
            start()

    def run(self, started):
        threads = [threading.Thread(target=self._event, args=(started, at, what, who), daemon=True) for at, what, who in self.plan]
        for t in threads:
            t.start()
        while not self.stop_flag.wait(0.5):
            with self.lock:
                if self.stop_flag.is_set():
                    break   # the run's clean-up set it while this waited for the lock
                for i, trainer in enumerate(self.cluster.trainers):
                    if i not in self.held and not trainer.alive():
                        self.log(f"trainer {i + 1} is down (declared dead); restarting it")
                        trainer.start()
        for t in threads:
            t.join()

    def _event(self, started, at, what, who):
        time.sleep(max(0.0, started + at - time.time()))
        if self.stop_flag.is_set():
            return
        self.log(f"{at:5.1f} s: {what}{'' if who is None else f' {who + 1}'}")
        if what == "kill trainer":
            with self.lock:
                self.held.add(who)
                self.cluster.trainers[who].signal(signal.SIGKILL)
            time.sleep(3)
            with self.lock:
                self.cluster.trainers[who].proc.wait()
                self._restart(self.cluster.trainers[who].start)
                self.held.discard(who)
        elif what == "hang trainer":
            with self.lock:
                self.held.add(who)
                self.cluster.trainers[who].signal(signal.SIGSTOP)
            time.sleep(20)
            with self.lock:
                self.cluster.trainers[who].signal(signal.SIGCONT)
                self.held.discard(who)   # declared dead while hung, it stops itself; the watchdog restarts it
        elif what == "kill coordinator":
            self.cluster.coordinator.signal(signal.SIGKILL)
            self.cluster.coordinator.proc.wait()
            time.sleep(2)
            with self.lock:
                self._restart(self.cluster.coordinator.start)
        elif what == "stop azurite":
            self.azurite.stop()
            time.sleep(30)
            with self.lock:
                self._restart(self.azurite.start)   # else the run's end starts it (it is needed for the blob count)


def one_run(aunce, work, redis, azurite, spec, a, run, clean_rows, clean_resumes, rng):
    sweep_id = f"chaos-{run}" if run > 0 else "clean"
    journal = os.path.join(work, "journal")
    cluster = Cluster(aunce, work, redis.address, 3, a.slots, a.epoch_seconds, checkpoints={
        "Checkpoints:Store": "azure-blob", "Checkpoints:ConnectionString": azurite.connection_string, "Checkpoints:Container": CONTAINER})
    notes = []
    chaos = None
    try:
        started = time.time()
        code, out, err = cluster.sweep(spec, sweep_id, journal, "--detach")
        if code != 0:
            sys.exit(f"chaos: submitting {sweep_id} failed ({code}):\n{out}\n{err}")
        worker = None
        if run > 0:
            chaos = Chaos(cluster, azurite, rng, lambda m: notes.append(m))
            worker = threading.Thread(target=chaos.run, args=(started,), daemon=True)
            worker.start()
        out = follow_to_end(cluster, sweep_id, journal, started + a.run_timeout)
        wall = time.time() - started
        if chaos:
            chaos.stop()
            worker.join()
            if azurite.proc.poll() is not None:
                azurite.start()
        logs = [t.log() for t in cluster.trainers]
        final = cluster.status(sweep_id, journal)   # from the sweep's record, while the cluster that holds it is up
    finally:
        if chaos:
            chaos.stop()   # no restart after this: an interrupted run leaves no silo behind
        cluster.stop()

    rows = outcome(final)
    states = [r[1] for r in rows]
    if clean_rows is not None and rows != clean_rows:
        notes.append("differs from the clean run: " + ", ".join(f"t{c[0]} {c[1:]} -> {r[1:]}" for c, r in zip(clean_rows, rows) if c != r))
    epochs = {}
    for fold, epoch in fold_lines(logs, sweep_id):
        epochs.setdefault(fold, []).append(epoch)
    expected = journal_keys(journal, sweep_id)
    present = set(azurite.blobs(CONTAINER, f"{sweep_id}/"))
    result = {
        "run": run,
        "trials_total": len(clean_rows) if clean_rows is not None else len(rows),   # Hyperband's brackets fix their own count
        "trials_completed": sum(s in ("completed", "pruned") for s in states),
        "trials_failed": sum(s == "failed" for s in states),
        "folds_resumed": resumes(logs, sweep_id) - (clean_resumes or 0),
        "epochs_lost_max": max((len(e) - len(set(e)) for e in epochs.values()), default=0),
        "checkpoints_lost": len(expected - present),
        "ranking_identical_to_clean_run": rows == clean_rows if clean_rows is not None else True,
        "wall_s": round(wall, 1),
    }
    return result, rows, resumes(logs, sweep_id), notes


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--trials", type=int, default=24)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--epoch-seconds", type=float, default=1.5)
    p.add_argument("--slots", type=int, default=4, help="slots per trainer silo (3 trainers)")
    p.add_argument("--scheduler", choices=["none", "hyperband_sync"], default="none",
                   help="none (default): every trial trains every epoch; hyperband_sync: synchronous Hyperband (its brackets fix the trial count)")
    p.add_argument("--grace-period", type=int, default=2, help="hyperband_sync: epochs of the first rung (default 2)")
    p.add_argument("--run-timeout", type=float, default=600, help="seconds a run may take before it counts as stalled")
    p.add_argument("--keep", action="store_true", help="keep the work folder (logs, journals, Azurite's files) and print where it is")
    a = p.parse_args()
    if a.runs < 1 or a.trials < 1 or a.epochs < 3 or a.epoch_seconds <= 0 or a.slots < 1 or a.grace_period < 1:
        sys.exit("chaos: --runs, --trials, --slots and --grace-period must be >= 1, --epochs >= 3 and --epoch-seconds > 0")

    aunce = cli()
    work = tempfile.mkdtemp(prefix="aunce-chaos.")
    redis = Redis()
    azurite = Azurite(os.path.join(work, "azurite"))
    results = []
    try:
        synth_data(aunce, os.path.join(work, "data"))
        spec = write_spec(work, a)
        clean, clean_rows, clean_resumes, _ = one_run(aunce, work, redis, azurite, spec, a, 0, None, None, None)
        print(json.dumps({"clean_run": clean}), flush=True)
        for run in range(1, a.runs + 1):
            rng = random.Random(a.seed * 1000 + run)
            result, _, _, notes = one_run(aunce, work, redis, azurite, spec, a, run, clean_rows, clean_resumes, rng)
            results.append(result)
            print(json.dumps(result), flush=True)
            print("  # " + "; ".join(notes), file=sys.stderr, flush=True)   # what the run did, and any difference
    finally:
        azurite.stop()
        redis.stop()
        if a.keep:
            print(f"chaos: kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    good = [r for r in results if r["trials_completed"] == r["trials_total"] and r["epochs_lost_max"] <= 1
            and r["checkpoints_lost"] == 0 and r["ranking_identical_to_clean_run"]]
    walls = sorted(r["wall_s"] for r in results)
    print()
    print(f"summary: {len(good)} of {len(results)} runs met every goal (0 trials lost, <= 1 epoch lost per fold, 0 checkpoints lost, "
          f"the clean run's ranking); clean run {clean['wall_s']} s")
    print(f"  trials lost (max over runs): {max(r['trials_total'] - r['trials_completed'] - r['trials_failed'] for r in results)}; "
          f"failed: {max(r['trials_failed'] for r in results)}; epochs lost per fold (max): {max(r['epochs_lost_max'] for r in results)}; "
          f"checkpoints lost (sum): {sum(r['checkpoints_lost'] for r in results)}; folds resumed (median): {sorted(r['folds_resumed'] for r in results)[len(results) // 2]}")
    print(f"  wall time: min {walls[0]} s, median {walls[len(walls) // 2]} s, max {walls[-1]} s")
    sys.exit(0 if len(good) == len(results) else 1)


if __name__ == "__main__":
    main()
