#!/usr/bin/env python3
"""Prints bench/gpu/run.sh's table from the JSON lines of its benchmarks: per implementation and
micro-batch size, the median over rounds of each round's median step, and the ratios to PyTorch."""
import json
import statistics
import sys

rows = []
for path in sys.argv[1:]:
    with open(path) as f:
        rows += [json.loads(line) for line in f if line.startswith("{") and '"impl"' in line]
if not rows:
    sys.exit("no benchmark results")
groups = {}
for r in rows:
    groups.setdefault((r["microBatch"], r["impl"]), []).append(r)
median = {k: statistics.median(r["tokensPerSecond"] for r in v) for k, v in groups.items()}
first = rows[0]
print(f"model {first['model']}, batch {first['batch']}, {first['precision']} on {first['device']}; "
      f"each round the median step of {first['steps']}, then the median over rounds")
print()
print("| micro-batch | implementation | rounds | tokens/s (median) | range | MFU | peak memory GiB | vs PyTorch eager | vs torch.compile |")
print("| ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
order = {"cpt": 0, "pytorch-eager": 1, "pytorch-compile": 2}
for (micro, impl), v in sorted(groups.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9))):
    tps = median[(micro, impl)]
    lo, hi = min(r["tokensPerSecond"] for r in v), max(r["tokensPerSecond"] for r in v)
    mfu = statistics.median(r["mfu"] for r in v) if v[0].get("mfu") is not None else None
    mem = max(r["peakMemoryGiB"] for r in v) if v[0].get("peakMemoryGiB") is not None else None
    ratio = lambda base: f"{tps / base:.3f}x" if base else "-"
    print(f"| {micro} | {impl} (torch {v[0]['torch']}) | {len(v)} | {tps:,.0f} | {lo:,.0f}–{hi:,.0f} "
          f"| {'-' if mfu is None else f'{100 * mfu:.1f}%'} | {'-' if mem is None else f'{mem:.2f}'} "
          f"| {ratio(median.get((micro, 'pytorch-eager')))} | {ratio(median.get((micro, 'pytorch-compile')))} |")
