#!/usr/bin/env python3
"""Summarises where the programs of the probed launches ran (gpu/RESULTS.md).

Reads the two files of gpu/probe_schedule.py and prints, per kernel:

- the first wave's capacity: how many programs started within 500 ns of the
  launch's first, divided by the SMs (the occupancy the hardware allowed);
- how often a dealing rule read off the traces predicts the largest number
  of working programs one SM held in that first wave, exactly and within
  one. The rule (`deal` below): programs are dealt in grid order, 8 to the
  eight SMs 124–131 (one to each), then 92 to the other 124 SMs in turn,
  and again; no SM takes more than min(occupancy, ceil(grid / 132)). So
  those eight SMs get about 1.35× the average share of a grid's first
  programs;
- how much longer than the median working program the launch lasted.

Working programs are told from exits by their time: over 3,000 SM cycles
and over a quarter of the launch's 99th percentile.

    python3 gpu/schedule_effects.py gpu/results/probes/h200-probe-schedule.jsonl \
        gpu/results/probes/h200-probe-schedule.npz [--launches]
"""
import argparse
import collections
import json

import numpy as np

SMS, GROUP, PERIOD = 132, 8, 100


def deal_order(n, cap):
    """The SM (0–7: SMs 124–131; 8–131: the others) each of a grid's first n
    programs is dealt to, when no SM takes more than `cap`."""
    out, load, m = [], [0] * SMS, 0
    while len(out) < n and len(out) < cap * SMS:
        for g in range(GROUP):
            if len(out) < n and load[g] < cap:
                load[g] += 1
                out.append(g)
        dealt = tries = 0
        while dealt < PERIOD - GROUP and len(out) < n and tries < 2 * SMS:
            s = GROUP + m
            m = (m + 1) % (SMS - GROUP)
            tries += 1
            if load[s] < cap:
                load[s] += 1
                out.append(s)
                dealt += 1
                tries = 0
        if tries >= 2 * SMS and all(load[g] >= cap for g in range(GROUP)):
            break
    return out


def deal(working, occupancy):
    """The working programs each SM holds in the first wave, by the rule above."""
    held = [0] * SMS
    for i, s in enumerate(deal_order(len(working), min(occupancy, -(-len(working) // SMS)))):
        held[s] += working[i]
    return held


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("npz")
    ap.add_argument("--launches", action="store_true", help="also print every launch")
    a = ap.parse_args()
    z = np.load(a.npz)
    cases = [json.loads(l) for l in open(a.jsonl) if '"type"' not in l[:10]]
    by = collections.defaultdict(list)
    for c in cases:
        for tag in ("perseq", "sorted"):
            k = f"{c['id']}_{tag}"
            sm, t0, dt, clk = (z[k + s] for s in ("_sm", "_t0", "_dt", "_dclk"))
            working = clk > max(3000, 0.25 * np.percentile(clk, 99))
            first = t0 < 500
            # Only a grid larger than the first wave shows the occupancy.
            capacity = round(first.sum() / SMS) if first.sum() < len(sm) else 0
            if working.sum() == 0:
                continue
            observed = int(np.bincount(sm[working & first], minlength=SMS).max())
            predicted = max(deal(working.astype(int).tolist(), capacity or len(sm)))
            span = (t0 + dt).max()
            typical = np.median(dt[working])
            by[c["kernel"]].append((capacity, predicted, observed, span / typical))
            if a.launches:
                print(f"{c['id']} {c['kernel']} {c['mode']} {tag}: grid {len(sm)}, working {working.sum()}, "
                      f"first wave {first.sum()}, most working on one SM {observed} (rule {predicted}), "
                      f"launch {span / 1000:.1f} µs = {span / typical:.2f}× the median working program")
    print("| kernel | launches | first-wave programs per SM (launches), where the grid was larger | rule exact | rule within one | launch ÷ median working program (median) |")
    print("|---|---|---|---|---|---|")
    for kernel, v in sorted(by.items()):
        caps = collections.Counter(x[0] for x in v if x[0] > 0)
        exact = sum(p == o for _, p, o, _ in v)
        near = sum(abs(p - o) <= 1 for _, p, o, _ in v)
        print(f"| {kernel} | {len(v)} | {', '.join(f'{k} ({n})' for k, n in sorted(caps.items()))} | "
              f"{exact} ({100 * exact / len(v):.0f} %) | {near} ({100 * near / len(v):.0f} %) | "
              f"{np.median([x[3] for x in v]):.2f} |")


if __name__ == "__main__":
    main()
