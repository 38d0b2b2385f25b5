#!/usr/bin/python3
"""Turns a sweep journal (status.json + events.jsonl) into a table: one row per trial, fold and epoch."""
import csv, json, os, sys

d = sys.argv[1]
status = json.load(open(os.path.join(d, "status.json")))
params = ["lr", "temperature", "lambda_min", "lambda_maj"]
configs = {t["Trial"]: t["Hyperparameters"] for t in status["Trials"]}
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["trial"] + params + ["fold", "epoch", "f1"])
for line in open(os.path.join(d, "events.jsonl")):
    e = json.loads(line)
    if e["Kind"] != "fold-epoch":
        continue
    c = configs[e["Trial"]]
    w.writerow([e["Trial"]] + [c[p] for p in params] + [e["Fold"], e["Epoch"], "%.6f" % e["Value"]])
