#!/usr/bin/python3
"""Generates pruner decision traces (format aunce-pruner-trace/1) from Optuna's own pruners.

Random pruner parameters, directions, interleavings of several running trials, skipped steps, strides and NaN values:
AunceSearch must agree with every decision (tests/AunceSearch.Search.Tests, OptunaPeerTests). Deterministic per seed.
Usage: optuna_traces.py OUT_DIR [--count N] [--seed S]   (Debian: apt-get install python3-optuna; needs Optuna 3.1)
"""
import argparse, json, math, os, random, sys

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)


def make_pruner(kind, rng):
    if kind == "successive_halving":
        p = {"min_resource": rng.choice([1, 2, 3]), "reduction_factor": rng.choice([2, 3, 4]),
             "min_early_stopping_rate": rng.choice([0, 0, 1, 2]), "bootstrap_count": rng.choice([0, 0, 1, 2])}
        return p, optuna.pruners.SuccessiveHalvingPruner(**p), None
    if kind == "hyperband":
        lo = rng.choice([1, 2])
        p = {"min_resource": lo, "max_resource": lo * rng.choice([9, 16, 27, 32, 81]), "reduction_factor": rng.choice([2, 3, 4]),
             "bootstrap_count": rng.choice([0, 0, 1]), "study_name": "aunce-hb-gen-%d" % rng.randrange(10**6)}
        args = {k: v for k, v in p.items() if k != "study_name"}
        return p, optuna.pruners.HyperbandPruner(**args), p["study_name"]
    common = {"n_startup_trials": rng.choice([0, 1, 2, 3, 5]), "n_warmup_steps": rng.choice([0, 1, 2, 4]),
              "interval_steps": rng.choice([1, 1, 2, 3]), "n_min_trials": rng.choice([1, 1, 2, 4])}
    if kind == "median":
        return common, optuna.pruners.MedianPruner(**common), None
    p = dict(common, percentile=round(rng.uniform(5, 95), 1))
    return p, optuna.pruners.PercentilePruner(**p), None


def trace(kind, seed):
    rng = random.Random(seed)
    params, pruner, study_name = make_pruner(kind, rng)
    direction = rng.choice(["minimize", "maximize"])
    study = optuna.create_study(direction=direction, pruner=pruner, study_name=study_name,
                                sampler=optuna.samplers.RandomSampler(seed=seed))
    max_step = rng.choice([10, 20, 30])
    stride = rng.choice([1, 1, 2])
    skip_p = rng.choice([0.0, 0.0, 0.2])
    nan_p = rng.choice([0.0, 0.0, 0.05])
    concurrency = rng.choice([1, 2, 4])
    n_trials = rng.randrange(15, 35)
    start = rng.choice([0, 1])
    events, running, created = [], {}, 0
    while created < n_trials or running:
        while created < n_trials and len(running) < concurrency:
            t = study.ask()
            quality = rng.gauss(0, 1)
            running[t.number] = {"trial": t, "step": start - stride, "quality": quality}
            created += 1
        number = rng.choice(sorted(running))
        r = running[number]
        step = r["step"] + stride
        while rng.random() < skip_p:
            step += stride
        if step > max_step:
            study.tell(r["trial"], r["last"])
            events.append({"trial": number, "complete": True, "value": r["last"]})
            del running[number]
            continue
        value = r["quality"] + 3.0 / (1 + step) + rng.gauss(0, 0.3)
        if direction == "maximize":
            value = -value
        if rng.random() < nan_p:
            value = float("nan")
        r["trial"].report(value, step)
        r["step"] = step
        r["last"] = value if not math.isnan(value) else r.get("last", 0.0)
        prune = r["trial"].should_prune()
        events.append({"trial": number, "step": step, "value": None if math.isnan(value) else value,
                       "decision": "prune" if prune else "continue"})
        if prune:
            study.tell(r["trial"], state=optuna.trial.TrialState.PRUNED)
            del running[number]
    return {"format": "aunce-pruner-trace/1", "generator": "optuna %s %s (tests/tools/optuna_traces.py seed %d)"
            % (optuna.__version__, type(pruner).__name__, seed), "direction": direction,
            "pruner": dict(params, kind=kind), "events": events}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=10, help="traces per pruner kind")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    n = 0
    for k, kind in enumerate(["successive_halving", "hyperband", "median", "percentile"]):
        for i in range(a.count):
            seed = a.seed * 100000 + k * 1000 + i
            with open(os.path.join(a.out, "%s-gen-%d.json" % (kind, seed)), "w") as f:
                json.dump(trace(kind, seed), f)
            n += 1
    print("wrote %d traces to %s (optuna %s)" % (n, a.out, optuna.__version__))


if __name__ == "__main__":
    sys.exit(main())
