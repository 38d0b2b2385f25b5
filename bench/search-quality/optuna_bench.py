#!/usr/bin/python3
"""Optuna 3.1 on the same search-quality benchmark as AunceSearch (bench/README.md).

For each seed: a sequential study (one worker) with Optuna's default TPESampler(seed) and a pruner at its defaults,
reporting the fold-mean F1 after every epoch; budget = training epochs consumed (a trial that is cut by the budget
counts what it trained). The incumbent is the best value among trials that trained all epochs, as for AunceSearch.
Writes optuna-table.json and optuna-surrogate.json in the AnytimeResults format of aunce-bench.
"""
import argparse, csv, json, math, os, sys
from collections import defaultdict

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
PARAMS = ["lr", "temperature", "lambda_min", "lambda_maj"]


def load_table(path):
    sums = defaultdict(lambda: defaultdict(list))
    values = {p: set() for p in PARAMS}
    for row in csv.DictReader(open(path)):
        key = "|".join(row[p] for p in PARAMS)
        for p in PARAMS:
            values[p].add(row[p])
        sums[key][int(row["epoch"])].append(float(row["f1"]))
    # Only configurations whose every epoch was trained on every fold (as aunce-bench's CurveTable).
    epochs = max(len(v) for v in sums.values())
    folds = max(len(l) for v in sums.values() for l in v.values())
    curves = {k: [sum(v[e]) / len(v[e]) for e in sorted(v)] for k, v in sums.items()
              if len(v) == epochs and all(len(l) == folds for l in v.values())}
    values = {p: sorted(v) for p, v in values.items()}
    # Missing grid points: mean curve of their grid neighbours (one parameter different), as aunce-bench does.
    import itertools
    imputed = {}
    for point in itertools.product(*(values[p] for p in PARAMS)):
        key = "|".join(point)
        if key in curves:
            continue
        nb = [c for k, c in curves.items() if sum(a != b for a, b in zip(k.split("|"), point)) == 1]
        imputed[key] = [sum(c[e] for c in nb) / len(nb) for e in range(epochs)]
    curves.update(imputed)
    return curves, values, epochs


def surrogate_fn(s):
    coef, shape = s["Coefficients"], s["Shape"]

    def features(x):
        f = [1.0] + list(x)
        for i in range(len(x)):
            for j in range(i, len(x)):
                f.append(x[i] * x[j])
        return f

    def curve(config):
        x = [math.log10(config["lr"]), math.log10(config["temperature"]), config["lambda_min"], config["lambda_maj"]]
        final = sum(a * b for a, b in zip(features(x), coef))
        return [final * c for c in shape]
    return curve


def run(make_pruner, suggest, curve_of, epochs, budget, seed):
    study = optuna.create_study(study_name="bench-%d" % seed, direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=make_pruner())
    used, best, points = 0, None, []
    while used < budget:
        trial = study.ask()
        config = suggest(trial)
        curve = curve_of(config)
        pruned = False
        for e in range(1, epochs + 1):
            if used >= budget:
                pruned = True
                break
            used += 1
            trial.report(curve[e - 1], e)
            if e < epochs and trial.should_prune():
                pruned = True
                break
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, curve[-1])
            if best is None or curve[-1] > best:
                best = curve[-1]
            points.append([used, best])
    return points


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("table")
    ap.add_argument("surrogate")
    ap.add_argument("out")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--budget", type=int, default=240)
    a = ap.parse_args()
    curves, values, epochs = load_table(a.table)
    s = json.load(open(a.surrogate))
    pruners = {
        "optuna tpe + hyperband": lambda: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs),
        "optuna tpe + successive halving": lambda: optuna.pruners.SuccessiveHalvingPruner(),
        "optuna tpe + median": lambda: optuna.pruners.MedianPruner(),
    }
    benches = {
        "table": (lambda t: {p: t.suggest_categorical(p, values[p]) for p in PARAMS},
                  lambda c: curves["|".join(c[p] for p in PARAMS)],
                  max(c[-1] for c in curves.values()), min(c[-1] for c in curves.values())),
        "surrogate": (lambda t: {"lr": t.suggest_float("lr", 10 ** s["Low"][0], 10 ** s["High"][0], log=True),
                                 "temperature": t.suggest_float("temperature", 10 ** s["Low"][1], 10 ** s["High"][1], log=True),
                                 "lambda_min": t.suggest_float("lambda_min", s["Low"][2], s["High"][2]),
                                 "lambda_maj": t.suggest_float("lambda_maj", s["Low"][3], s["High"][3])},
                      surrogate_fn(s), None, 0.0),
    }
    for name, (suggest, curve_of, optimum, worst) in benches.items():
        methods = {}
        for label, make in pruners.items():
            methods[label] = [run(make, suggest, curve_of, epochs, a.budget, seed) for seed in range(1, a.seeds + 1)]
        out = {"Benchmark": name, "Budget": a.budget, "Optimum": optimum if optimum is not None else 0.0, "Worst": worst, "Methods": methods}
        with open(os.path.join(a.out, "optuna-%s.json" % name), "w") as f:
            json.dump(out, f)
        print("wrote %s/optuna-%s.json" % (a.out, name))


if __name__ == "__main__":
    sys.exit(main())
