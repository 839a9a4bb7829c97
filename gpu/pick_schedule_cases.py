#!/usr/bin/env python3
"""Picks the cases gpu/probe_schedule.py traces (gpu/cases-schedule.jsonl).

From the launches `lora-viz gpu-check --csv` writes: cases 2200, 3293 and
2275 (gpu/RESULTS.md names them), then for each kernel and mode the three
cases whose estimated per-sequence ÷ sorted speedup is most too high, the
three most too low, and the two closest to the measured one. Cases of the
anchor data (not in a cases file) and sorted grids of over 150,000
programs (their traces would be large) are left out. The estimates are
the profile's at commit 16c14b7 (the one the probe was run with).

    lora-viz gpu-check gpu/results/h200-sglang-anchor.jsonl gpu/results/h200-sweep.jsonl \\
        gpu/results/h200-sweep-calib2.jsonl gpu/results/h200-sweep-holdout{2,3,4,5}.jsonl --csv all.csv
    python3 gpu/pick_schedule_cases.py all.csv > gpu/cases-schedule.jsonl
"""
import collections
import csv
import json
import math
import os
import sys

FILES = ["cases.jsonl", "cases-holdout2.jsonl", "cases-holdout3.jsonl", "cases-holdout4.jsonl",
         "cases-calib2.jsonl", "cases-holdout5.jsonl"]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    lines = {}
    for f in FILES:
        for line in open(os.path.join(here, f)):
            lines[str(json.loads(line)["id"])] = line.strip()
    launches = collections.defaultdict(dict)
    for r in csv.DictReader(open(sys.argv[1])):
        launches[r["id"]][r["routing"]] = r
    misses = collections.defaultdict(list)
    for key, c in launches.items():
        p, s = c["per-sequence"], c["sorted"]
        if key not in lines or int(s["segment_exits"]) + int(s["excess_exits"]) + int(s["working"]) > 150000:
            continue
        measured = float(p["measured_us"]) / float(s["measured_us"])
        estimated = float(p["estimate_us"]) / float(s["estimate_us"])
        misses[(p["kernel"], p["mode"])].append((math.log(measured / estimated), key))
    picked = ["2200", "3293", "2275"]
    for v in misses.values():
        v.sort()
        picked += [k for _, k in v[:3] + v[-3:]] + [k for _, k in sorted(v, key=lambda t: abs(t[0]))[:2]]
    for key in dict.fromkeys(picked):
        print(lines[key])


if __name__ == "__main__":
    main()
