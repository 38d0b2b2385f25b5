#!/usr/bin/python3
"""Turns a sweep (its status from `aunce sweep status ID --json`, and its journal's events.jsonl) into a table: one row per
trial, fold and epoch. Usage: journal_to_csv.py STATUS_JSON JOURNAL_DIR"""
import csv, json, os, sys

status = json.load(open(sys.argv[1]))
d = sys.argv[2]
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
