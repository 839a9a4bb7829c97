#!/usr/bin/env python3
"""Probes why a sorted shrink over many adapters is slow (gpu/RESULTS.md).

With the same working programs, a sorted `sgemm_lora_a` over 64 slots runs up
to twice as long as the per-sequence launch; the cost model cannot say why.
This times one batch (K 4096, stack 1, every slot rank R) under launches that
each change one thing:

- perseq:       one segment per sequence (the per-sequence variant);
- sorted:       SGLang's sorted routing, rows gathered through the permutation;
- sorted-ident: the same segments, x pre-sorted so the permutation is the identity;
- segs-noperm:  the same per-slot segments over pre-sorted x with no permutation
                (the per-sequence variant of the kernel, the sorted grid);
- tight:        sorted with max_len = the longest segment (no excess exits).

Method as measure_sglang.py: a CUDA graph of 20 calls, mean of 10 replays.

    python3 gpu/probe_sorted_shrink.py WHEEL OUT.jsonl
"""
import json
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import measure_sglang as m  # noqa: E402


def main():
    wheel, out = sys.argv[1], sys.argv[2]
    Info, mods = m.load_kernels(wheel)
    dev = torch.device("cuda")
    i32 = dict(dtype=torch.int32, device=dev)
    K = 4096
    with open(out, "w") as f:
        for R in [16, 64]:
            for slots, used in [(64, 64), (64, 16), (64, 1), (16, 16)]:
                for bs in [64, 128, 512]:
                    wi = [i % used for i in range(bs)]
                    ranks = torch.full((slots,), R, **i32)
                    scal = torch.ones(slots, dtype=torch.float32, device=dev)
                    x = torch.randn(bs, K, device=dev, dtype=torch.bfloat16)
                    w = torch.randn(slots, R, K, device=dev, dtype=torch.bfloat16) * 0.02
                    perm = sorted(range(bs), key=lambda t: wi[t])
                    xs = x[perm].contiguous()
                    seg = [wi.count(a) for a in range(slots)]
                    ind = [0]
                    for l in seg:
                        ind.append(ind[-1] + l)

                    def per_slot(max_len, permutation):
                        return Info(bs=slots, max_len=max_len, seg_lens=torch.tensor(seg, **i32),
                                    seg_indptr=torch.tensor(ind, **i32), weight_indices=torch.arange(slots, **i32),
                                    lora_ranks=ranks, scalings=scal, permutation=permutation)

                    launches = {
                        "perseq": (x, Info(bs=bs, max_len=1, seg_lens=torch.ones(bs, **i32),
                                           seg_indptr=torch.arange(bs + 1, **i32), weight_indices=torch.tensor(wi, **i32),
                                           lora_ranks=ranks, scalings=scal, permutation=None)),
                        "sorted": (x, per_slot(bs, torch.tensor(perm, **i32))),
                        "sorted-ident": (xs, per_slot(bs, torch.arange(bs, **i32))),
                        "segs-noperm": (xs, per_slot(bs, None)),
                        "tight": (x, per_slot(max(seg), torch.tensor(perm, **i32))),
                    }
                    rec = {"R": R, "slots": slots, "used": used, "bs": bs}
                    for name, (xx, info) in launches.items():
                        rec[name] = m.time_graph(lambda xx=xx, info=info: mods["sgemm_lora_a"].sgemm_lora_a_fwd(xx, w, info))
                    f.write(json.dumps(rec) + "\n")
                    f.flush()
                    print(" ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items()), flush=True)


if __name__ == "__main__":
    main()
