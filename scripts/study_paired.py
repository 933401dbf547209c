#!/usr/bin/env python3
"""Paired differences between the points of a finished `glassmd study`.

  study_paired.py RUN_DIR AXIS QUANTITY [--scale 1000]

A study's points share their samples: sample s of every point starts from
the same prelude glass (e.g. seed 001's D, loaded at each Pa). The change
of QUANTITY between two values of AXIS is therefore best estimated per
sample, and its standard error is that of the per-sample differences, which
is smaller than the two points' errors combined when the samples scatter
together. For every pair of AXIS values (with the other grid columns
equal), this prints each sample's value at both, the per-sample difference,
and mean +- standard error (n - 1 in the variance, as `study.csv`).

RUN_DIR is the study's --dir (it holds grid.csv and task_IIII/sample_SS/
results.json); QUANTITY is STAGE.KEY of results.json, as in the study's
[report]. Only plain Python: it reads what glassmd wrote.
"""
import argparse
import csv
import json
import math
import os
import sys

p = argparse.ArgumentParser()
p.add_argument("run_dir")
p.add_argument("axis")
p.add_argument("quantity", help="STAGE.KEY in results.json, e.g. J.delta_pe_per_atom")
p.add_argument("--scale", type=float, default=1.0, help="multiply values (1000: eV -> meV)")
p.add_argument("--same", default="", help="grid.csv columns that must agree between paired points (comma-separated), for studies with more than one axis")
a = p.parse_args()

grid = os.path.join(a.run_dir, "grid.csv")
try:
    rows = list(csv.DictReader(open(grid)))
except OSError as e:
    sys.exit(f"{grid}: {e.strerror}")
if not rows or a.axis not in rows[0]:
    sys.exit(f"{grid}: no column '{a.axis}'")
stage, key = a.quantity.split(".", 1)
# Points are paired when they agree on the --same columns. Columns derived
# from the axis (seed 001's Ta = 1.3 Tg(Pa)) differ between paired points by
# design, so they are not compared unless named.
same = [c for c in a.same.split(",") if c]
for c in same:
    if c not in rows[0]:
        sys.exit(f"{grid}: no column '{c}'")

values = {}  # (other columns, sample) -> {axis value: quantity}
for r in rows:
    path = os.path.join(a.run_dir, f"task_{int(r['task']):04d}", f"sample_{int(r['sample']):02d}", "results.json")
    try:
        v = json.load(open(path))[stage][key] * a.scale
    except (OSError, KeyError, ValueError):
        print(f"task {r['task']}: no {a.quantity} yet ({path})")
        continue
    ident = tuple(r[c] for c in same)
    d = values.setdefault((ident, int(r["sample"])), {})
    x = float(r[a.axis])
    if x in d:
        sys.exit(f"{grid}: task {r['task']}: two points with {a.axis} = {x:g} and the same sample; the study has other axes: name them with --same")
    d[x] = v


def mean_se(v):
    m = sum(v) / len(v)
    if len(v) < 2:
        return m, float("nan")
    return m, math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1) / len(v))


axis_values = sorted({x for d in values.values() for x in d})
idents = sorted({i for i, _ in values})
for ident in idents:
    samples = sorted(s for i, s in values if i == ident)
    for lo_i, lo in enumerate(axis_values):
        for hi in axis_values[lo_i + 1:]:
            diffs = []
            for s in samples:
                d = values[(ident, s)]
                if lo in d and hi in d:
                    diffs.append(d[hi] - d[lo])
                    print(f"sample {s}: {a.axis} = {lo:g}: {d[lo]:+.3f}   {a.axis} = {hi:g}: {d[hi]:+.3f}   difference {d[hi] - d[lo]:+.3f}")
            if diffs:
                m, se = mean_se(diffs)
                print(f"{a.quantity} at {a.axis} = {hi:g} minus at {lo:g}: {m:+.3f} +- {se:.3f} (paired over {len(diffs)} samples)")
