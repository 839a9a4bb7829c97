#!/usr/bin/env python3
"""Summarises what the kernels' compiled variants cost (gpu/RESULTS.md).

Reads files of gpu/probe_routing_variant.py (gpu/results/variants/) and
prints, per kernel, whether the kernel's N argument is a multiple of 16
(Triton compiles another kernel when it is not: the shrink's N is stack ×
max rank, the expands' K is the rank), and whether the per-sequence launch
has at most one program per SM (≤ 132) or more, the quartiles of

- perseq ÷ ident: the per-sequence variant against the sorted one on the
  per-sequence grid, and
- noperm ÷ sorted: the same on the sorted grid.

    python3 gpu/variant_effects.py gpu/results/variants/h200-variants.jsonl [--set calib]
"""
import argparse
import collections
import json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--set", choices=["calib", "holdout"], help="only the cases of this split")
    a = ap.parse_args()
    groups = collections.defaultdict(list)
    for name in a.files:
        for line in open(name):
            r = json.loads(line)
            if "type" in r or (a.set and r["set"] != a.set):
                continue
            shrink = r["kernel"] == "sgemm_lora_a"
            aligned = (r["stack"] * r["R"] if shrink else r["R"]) % 16 == 0
            lone = r["L_perseq"] <= 132
            groups[(r["kernel"], aligned, lone)].append(
                (r["g20_perseq"] / r["g20_ident"], r["g20_noperm"] / r["g20_sorted"]))
    print("| kernel | N multiple of 16 | per-sequence programs | cases | perseq ÷ ident (min, quartiles, max) | noperm ÷ sorted |")
    print("|---|---|---|---|---|---|")
    for (kernel, aligned, lone), v in sorted(groups.items()):
        def q(xs):
            xs = sorted(xs)
            return ", ".join(f"{xs[int(f * (len(xs) - 1))]:.2f}" for f in (0, 0.25, 0.5, 0.75, 1))
        print(f"| {kernel} | {'yes' if aligned else 'no'} | {'≤ 132' if lone else '> 132'} | {len(v)} | "
              f"{q(x for x, _ in v)} | {q(y for _, y in v)} |")


if __name__ == "__main__":
    main()
