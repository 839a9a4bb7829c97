#!/usr/bin/env python3
"""Times a cases file under four launches that tell the grid from the variant.

First run on the held-out cases whose estimated direction was wrong
(gpu/RESULTS.md, "grid or compiled variant?"), then on every case of
gpu/cases.jsonl and both held-out sets, so the fit can learn each variant's
cost from calibration cases (`gpu/results/variants/`).

The 95 held-out cases where the estimated per-sequence ÷ sorted speedup falls
in another band (> 1.1, < 0.9, between) than the measured one
(`gpu/cases-direction-misses.jsonl`, cut from `lora-viz gpu-check --csv`)
are timed again under four launches, so the grid and the kernel's compiled
variant can be told apart:

- perseq:        one segment per sequence, the per-sequence variant;
- ident:         the same grid, the sorted variant (SORTED_BY_ADAPTER) through
                 the identity permutation: its output must equal perseq's;
- sorted:        one segment per slot, the sorted variant;
- sorted-noperm: the same grid as sorted, the per-sequence variant (rows read
                 in place: timed only).

perseq ÷ ident is what the variant alone costs on the per-sequence grid;
sorted-noperm ÷ sorted the same on the sorted grid. Method as
measure_sglang.py: a CUDA graph of 20 calls, mean of 10 replays.

    python3 gpu/probe_routing_variant.py KERNELS.zip CASES OUT.jsonl
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import measure_sglang as m  # noqa: E402

ROUTINGS = [("per-sequence", "perseq"), ("per-sequence-ident", "ident"),
            ("sorted", "sorted"), ("sorted-noperm", "noperm")]


def main():
    wheel, cases, out = sys.argv[1:4]
    Info, mods = m.load_kernels(wheel)
    dev = torch.device("cuda")
    p = torch.cuda.get_device_properties(dev)
    start = time.time()
    with open(cases) as f, open(out, "w") as o:
        # Provenance, as measure_sglang.py's meta line (readers skip `type` lines).
        o.write(json.dumps({"type": "meta", "gpu": p.name, "sms": p.multi_processor_count,
                            "torch": torch.__version__, "triton": __import__("triton").__version__,
                            "wheel": os.path.basename(wheel), "cases": os.path.basename(cases),
                            "routings": [t for _, t in ROUTINGS],
                            "method": "CUDA graph of 20 calls, mean of 10 replays (2 when a call > 1 ms)"}) + "\n")
        for line in f:
            c = json.loads(line)
            rec = m.run_case(c, mods, Info, dev, routings=ROUTINGS)
            o.write(json.dumps(rec) + "\n")
            o.flush()
            print(c["id"], c["kernel"], c["mode"], " ".join(f"{t}={rec['g20_' + t]:.1f}" for _, t in ROUTINGS),
                  f"ident_diff={rec['maxdiff_ident']:.3g}", flush=True)
            torch.cuda.empty_cache()
    print(f"probed {cases} in {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
