#!/usr/bin/env python3
"""bench/gpu/run.sh's multi-rank stage: each run's metrics.jsonl against the one-rank run's (the
largest relative difference of loss, gradient norm and validation losses), and each run's
throughput and peak memory lines. Usage: distributed.py ONE_RUN_DIR NAME=RUN_DIR ..."""
import json
import sys


def records(run):
    with open(f"{run}/metrics.jsonl") as f:
        return [json.loads(line) for line in f if line.strip()]


def worst(a, b):
    w = 0.0
    for x, y in zip(a, b):
        for k in ("loss", "gradNorm"):
            if x.get(k) is not None and y.get(k) is not None:
                w = max(w, abs(x[k] - y[k]) / abs(x[k]))
        for d, v in (x.get("val") or {}).items():
            w = max(w, abs(v - y["val"][d]) / abs(v))
    return w


one = records(sys.argv[1])
print("| run | records | largest relative difference to one rank |")
print("| --- | ---: | ---: |")
for arg in sys.argv[2:]:
    name, run = arg.split("=", 1)
    try:
        r = records(run)
        print(f"| {name} | {len(r)} of {len(one)} | {worst(one, r):.2e} |")
    except OSError as e:
        print(f"| {name} | - | {e} |")
