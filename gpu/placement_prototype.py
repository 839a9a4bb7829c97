#!/usr/bin/env python3
"""Tries a first-wave placement term on the estimate, in a Python copy of it.

gpu/probe_schedule.py showed where the H200 puts a launch's programs
(gpu/RESULTS.md, "Where the programs ran"). This script asks whether the
estimate gets better if it knows that, before anything is changed in Swift:

1. It reads the launches that `lora-viz gpu-check --csv` writes (every
   results file's per-sequence, sorted and tight launch, with the work
   terms and the program order) and recomputes the committed estimate
   (Sources/LoRAKernels/GPU/GPUEstimate.swift) from them, checking it
   matches `estimate_us`.
2. It deals each launch's first wave by the rule of gpu/schedule_effects.py,
   with the first-wave capacity the probe measured per kernel (per-sequence
   variant, sorted variant), and prices the most loaded SM:
   `max(start + maxK·step, Σ(start + k·step) / concurrency)`, a fitted
   concurrency per kernel. That replaces the longest program in the latency
   term.
3. It fits both forms on the calibration cases alone, with the Swift fit's
   parameters, residuals and weights (GPUCalibration.swift), and scores every
   held-out set.

    lora-viz gpu-check gpu/results/h200-sglang-anchor.jsonl gpu/results/h200-sweep.jsonl \
        gpu/results/h200-sweep-calib2.jsonl gpu/results/h200-sweep-holdout{2,3,4,5}.jsonl --csv all.csv
    python3 gpu/placement_prototype.py all.csv        # numpy and scipy; about 2 minutes
"""
import collections
import copy
import csv
import math
import os
import sys

import numpy as np
from scipy.optimize import least_squares

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from schedule_effects import deal_order  # noqa: E402

KERNELS = ["sgemm_lora_a", "sgemm_lora_b", "qkv_lora_b", "gate_up_lora_b"]
SMS, DRAM_GBPS, L2_BYTES = 132, 4267, 60 << 20
# First-wave programs per SM the probe measured (per-sequence, sorted variant).
CAPACITY = {"sgemm_lora_a": (6, 6), "sgemm_lora_b": (2, 2), "qkv_lora_b": (8, 7), "gate_up_lora_b": (7, 7)}
# The committed h200 constants (GPUProfile+H200.swift): start, step, sorted
# start, sorted step, residentPerSM, segment exit, excess exit, exit delay,
# and for the shrink its unaligned start and step.
COMMITTED = dict(floor=1.519, l2=5960, warm=1.0, programs={
    "sgemm_lora_a": [716.8, 510.7, 716.8, 426.9, 1.528, 62.38, 98.03, 54.05, 644.8, 430.6],
    "sgemm_lora_b": [0.001, 1746, 0.001, 1874, 1.303, 128.5, 239.2, 23.98],
    "qkv_lora_b": [628.2, 897.1, 628.2, 845.8, 4.185, 76.15, 83.76, 2.302],
    "gate_up_lora_b": [0.001, 1680, 0.001, 1176, 4.052, 76.69, 64.22, 155.8]})
NUMBERS = ["segment_exits", "excess_exits", "working", "k_steps", "max_k_steps", "tile_bytes",
           "overfetch_bytes", "unique_bytes", "exit_work_pairs"]


def load(path):
    launches = []
    for r in csv.DictReader(open(path)):
        for k in NUMBERS:
            r[k] = int(r[k])
        r["measured_us"], r["estimate_us"] = float(r["measured_us"]), float(r["estimate_us"])
        r["sorted_variant"] = r["routing"] != "per-sequence"
        steps = []  # each program's K steps, -1 for an exit, in grid order
        for run in r["order"].split():
            kind, n = run.split("*")
            steps += [int(kind[1:]) if kind.startswith("W") else -1] * int(n)
        cap = CAPACITY[r["kernel"]][r["sorted_variant"]]
        # The first wave only: later programs go where slots free up.
        first = steps[:cap * SMS]
        held = [[] for _ in range(SMS)]
        for i, s in enumerate(deal_order(len(first), min(cap, -(-len(steps) // SMS)))):
            if first[i] >= 0:
                held[s].append(first[i])
        r["sm_loads"] = sorted({(len(h), sum(h), max(h)) for h in held if h})
        launches.append(r)
    return launches


def estimate(r, p, placed):
    c = p["programs"][r["kernel"]]
    start, step, sstart, sstep, resident, seg_exit, excess_exit, delay_ns = c[:8]
    if r["sorted_variant"]:
        ls, lt = sstart, sstep
    elif r["aligned_width"] != "true" and len(c) > 8:
        ls, lt = c[8], c[9]
    else:
        ls, lt = start, step
    working = r["working"]
    longest = ls + r["max_k_steps"] * lt if working else 0
    if placed and r["sm_loads"]:
        conc = p["concurrency"][r["kernel"]]
        longest = max(max(ls + mk * lt, (n * ls + sk * lt) / conc) for n, sk, mk in r["sm_loads"])
    exit_us = (r["segment_exits"] * seg_exit + r["excess_exits"] * excess_exit) / SMS / 1000
    compute_us = (working * sstart + r["k_steps"] * sstep) / (SMS * resident) / 1000
    u = r["unique_bytes"]
    dram = u * p["warm"] if u <= L2_BYTES else L2_BYTES * p["warm"] + (u - L2_BYTES)
    memory_us = (dram / (DRAM_GBPS * 1e3) + (r["tile_bytes"] + r["overfetch_bytes"]) / (p["l2"] * 1e3)) if working else 0
    latency_us = longest / 1000 + min(longest, r["exit_work_pairs"] * delay_ns / SMS) / 1000
    terms = (latency_us, exit_us + compute_us, memory_us)
    top = max(terms)
    body = top * sum((t / top) ** 4 for t in terms) ** 0.25 if top > 0 else 0
    return p["floor"] + body


def pack(p, placed):
    v = [p["floor"], p["l2"], p["warm"]]
    for k in KERNELS:
        c = p["programs"][k]
        v += [c[0], c[1], c[3]] + c[4:]  # the sorted start is the start (as the Swift fit)
    if placed:
        v += [p["concurrency"][k] for k in KERNELS]
    return np.log(v)


def unpack(x, placed):
    v = list(np.exp(np.clip(x, math.log(1e-3), math.log(1e7))))
    p = {"floor": v[0], "l2": v[1], "warm": min(1, v[2]), "programs": {}}
    i = 3
    for k in KERNELS:
        n = len(COMMITTED["programs"][k]) - 1
        c = v[i:i + n]
        p["programs"][k] = [c[0], c[1], c[0], c[2], min(c[3], 32)] + c[4:]
        i += n
    if placed:
        p["concurrency"] = dict(zip(KERNELS, v[i:i + 4]))
    return p


def residuals(x, placed, cases):
    p = unpack(x, placed)
    out = []
    for c in cases:
        est = {rt: estimate(r, p, placed) for rt, r in c.items()}
        out += [math.log(est[rt] / r["measured_us"]) for rt, r in c.items()]
        measured = c["per-sequence"]["measured_us"] / c["sorted"]["measured_us"]
        out.append(math.sqrt(2) * math.log(est["per-sequence"] / est["sorted"] / measured))
    return out


def band(x):
    return 1 if x > 1.1 else (-1 if x < 0.9 else 0)


def score(p, placed, cases):
    within = agree = launches = close = 0
    for c in cases:
        est = {rt: estimate(r, p, placed) for rt, r in c.items()}
        for rt in ("per-sequence", "sorted"):
            launches += 1
            close += abs(est[rt] / c[rt]["measured_us"] - 1) <= 0.2
        e = est["per-sequence"] / est["sorted"]
        m = c["per-sequence"]["measured_us"] / c["sorted"]["measured_us"]
        within += abs(e / m - 1) <= 0.25
        agree += band(e) == band(m)
    n = len(cases)
    return f"{100 * within / n:.1f} / {100 * agree / n:.1f} / {100 * close / launches:.1f} %"


def main():
    launches = load(sys.argv[1])
    worst = max(abs(estimate(r, COMMITTED, False) / r["estimate_us"] - 1) for r in launches)
    print(f"the Python copy matches lora-viz's estimate within {100 * worst:.3f} % on {len(launches)} launches")
    cases = collections.defaultdict(dict)
    for r in launches:
        cases[r["id"]][r["routing"]] = r
    sets = collections.defaultdict(list)
    for key, c in cases.items():
        split = c["sorted"]["split"]
        name = "calibration" if split == "calib" else f"held-out {1 + int(key) // 1000 - (int(key) >= 5000)}"
        sets[name].append(c)
    held = [c for name, cs in sets.items() if name != "calibration" for c in cs]
    print("speedup within ±25 % / direction / launch within ±20 %")
    for placed in (False, True):
        start = copy.deepcopy(COMMITTED)
        start["concurrency"] = {k: 2.0 for k in KERNELS}
        fit = least_squares(residuals, pack(start, placed), args=(placed, sets["calibration"]), method="lm", max_nfev=4000)
        p = unpack(fit.x, placed)
        loss = 2 * fit.cost / len(sets["calibration"])
        print(f"{'with placement' if placed else 'committed form'}: calibration loss {loss:.4f}")
        for name in sorted(sets):
            print(f"  {name} ({len(sets[name])}): {score(p, placed, sets[name])}")
        print(f"  all held-out ({len(held)}): {score(p, placed, held)}")
        if placed:
            print("  concurrency: " + ", ".join(f"{k} {v:.2f}" for k, v in p["concurrency"].items()))


if __name__ == "__main__":
    main()
