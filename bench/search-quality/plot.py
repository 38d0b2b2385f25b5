#!/usr/bin/python3
"""Anytime curves (median and quartiles of the best value vs epochs consumed) of every method, one panel per benchmark."""
import json, os, sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

out = sys.argv[1]
fig, axes = plt.subplots(1, 2, figsize=(15, 5.5))
for ax, bench in zip(axes, ["table", "surrogate"]):
    ours = json.load(open(os.path.join(out, "aunce-%s.json" % bench)))
    methods = dict(ours["Methods"])
    optuna_file = os.path.join(out, "optuna-%s.json" % bench)
    if os.path.exists(optuna_file):
        methods.update(json.load(open(optuna_file))["Methods"])
    budget, floor = ours["Budget"], ours["Worst"]
    xs = np.arange(1, budget + 1)
    for name, runs in methods.items():
        grid = np.array([[max([p[1] for p in r if p[0] <= b], default=floor) for b in xs] for r in runs])
        med, q1, q3 = np.median(grid, 0), np.percentile(grid, 25, 0), np.percentile(grid, 75, 0)
        style = "--" if name.startswith("optuna") else "-"
        width = 2.5 if "default" in name else 1.3
        ax.plot(xs, med, style, linewidth=width, label=name)
        ax.fill_between(xs, q1, q3, alpha=0.12)
    ax.axhline(ours["Optimum"], color="k", linewidth=0.8, linestyle=":", label="optimum")
    ax.set_title("%s benchmark (%d seeds)" % (bench, len(next(iter(methods.values())))))
    ax.set_xlabel("training epochs consumed")
    ax.set_ylabel("best fold-mean F1 of fully trained trials")
    lo = np.percentile([p[1] for runs in methods.values() for r in runs for p in r] or [floor], 5)
    ax.set_ylim(lo - 0.005, ours["Optimum"] + 0.005)
    ax.legend(fontsize=7, loc="lower right")
fig.tight_layout()
fig.savefig(os.path.join(out, "anytime.png"), dpi=110)
print("wrote %s/anytime.png" % out)
