#!/usr/bin/env python3
"""Writes the batches lora-viz's H200 calibration sweep measures.

Deterministic (seed 22386): the same file every run. Each line is one
launch to time under three routings (per-sequence, sorted, tight) with the
real SGLang kernels; `set` says whether the GPU cost model may fit on it
(`calib`) or only be judged on it (`holdout`). Every case of the model
shape `qwen3-4b` is held out, so the held-out set has a shape the fit never
saw; of the rest, 40 % are held out at random.

    python3 gpu/make_cases.py > gpu/cases.jsonl
    python3 gpu/make_cases.py --second > gpu/cases-holdout2.jsonl
    python3 gpu/make_cases.py --third > gpu/cases-holdout3.jsonl
    python3 gpu/make_cases.py --fourth > gpu/cases-holdout4.jsonl
    python3 gpu/make_cases.py --fifth > gpu/cases-calib2.jsonl
    python3 gpu/make_cases.py --sixth > gpu/cases-holdout5.jsonl
    python3 gpu/make_cases.py --seventh > gpu/cases-holdout6.jsonl

`--second` writes a second, wholly held-out set: another seed, ids from
1000, and three more model shapes (`SECOND_SHAPES`) that the first set has
not got, so the fit sees none of its shapes' weights or widths.

`--third` writes a third, wholly held-out set (seed 3, ids from 2000) on six
shapes neither earlier set has (`THIRD_SHAPES`), two of them with a K that
is not a multiple of the shrink's 256-wide K step. It was measured after the
model's form was last changed, so no choice of form saw it
(gpu/RESULTS.md).

`--fourth` writes a fourth, wholly held-out set (seed 4, ids from 3000, 600
cases) on seven shapes no other set has (`FOURTH_SHAPES`), among them a K of
1,152 (4.5 K steps) and a down projection with K 25,600. It was measured in
the same device call as the fifth, before the model's form was changed
again, and scored only once that form and its constants were fixed.

`--fifth` writes more calibration data (seed 5, ids from 4000, 840 cases,
every one `calib`) on every shape of the first three sets, so the fit sees
15 shapes rather than 5.

`--sixth` writes a fifth held-out set (seed 6, ids from 5000, 600 cases) on
seven more shapes no other set has (`SIXTH_SHAPES`), among them a K of
16,384 and a K of 7,168. It was generated and measured after the model's
form and constants were committed, and scored once.

`--seventh` writes a sixth held-out set (seed 7, ids from 6000, 600 cases)
on seven more shapes no other set has (`SEVENTH_SHAPES`: Qwen2.5-32B,
Gemma-2-27B, Llama-2-13B, Mistral-Large-123B (K 12,288), Command-R-35B,
StarCoder2-15B, Qwen3-1.7B). It was generated and measured after the
direction record (`GPUDirectionRecord.h200`) was committed, to check the
record and the profile on cases neither has seen.
"""
import argparse
import json
import random

# Real model shapes (Hugging Face config.json values). `hidden` is the
# shrink's K; `llama3-8b-down` is the down projection, whose shrink reads
# the FFN width.
SHAPES = {
    "llama3-8b": dict(hidden=4096, out=4096, q=4096, kv=1024, ffn=14336),
    "llama3-8b-down": dict(hidden=14336, out=4096, q=4096, kv=1024, ffn=14336),
    "qwen2.5-7b": dict(hidden=3584, out=3584, q=3584, kv=512, ffn=18944),
    "qwen2.5-1.5b": dict(hidden=1536, out=1536, q=1536, kv=256, ffn=8960),
    "llama3-70b": dict(hidden=8192, out=8192, q=8192, kv=1024, ffn=28672),
    "qwen3-4b": dict(hidden=2560, out=2560, q=4096, kv=1024, ffn=9728),
}
SECOND_SHAPES = {
    "mistral-nemo-12b": dict(hidden=5120, out=5120, q=4096, kv=1024, ffn=14336),
    "phi-3-mini": dict(hidden=3072, out=3072, q=3072, kv=3072, ffn=8192),
    "gemma-2-9b": dict(hidden=3584, out=3584, q=4096, kv=2048, ffn=14336),
    "llama3-8b": SHAPES["llama3-8b"],
    "qwen2.5-1.5b": SHAPES["qwen2.5-1.5b"],
}
THIRD_SHAPES = {
    "llama3.2-1b": dict(hidden=2048, out=2048, q=2048, kv=512, ffn=8192),
    "llama3.2-3b": dict(hidden=3072, out=3072, q=3072, kv=1024, ffn=8192),
    "qwen2.5-14b": dict(hidden=5120, out=5120, q=5120, kv=1024, ffn=13824),
    "gemma-2-2b": dict(hidden=2304, out=2304, q=2048, kv=1024, ffn=9216),
    "phi-3-medium": dict(hidden=5120, out=5120, q=5120, kv=1280, ffn=17920),
    "qwen2.5-0.5b": dict(hidden=896, out=896, q=896, kv=128, ffn=4864),
}
FOURTH_SHAPES = {
    "qwen3-8b": dict(hidden=4096, out=4096, q=4096, kv=1024, ffn=12288),
    "qwen3-32b": dict(hidden=5120, out=5120, q=8192, kv=1024, ffn=25600),
    "qwen3-32b-down": dict(hidden=25600, out=5120, q=8192, kv=1024, ffn=25600),
    "mistral-small-24b": dict(hidden=5120, out=5120, q=4096, kv=1024, ffn=32768),
    "gemma-3-1b": dict(hidden=1152, out=1152, q=1024, kv=256, ffn=6912),
    "gemma-3-12b": dict(hidden=3840, out=3840, q=4096, kv=2048, ffn=15360),
    "qwen2.5-3b": dict(hidden=2048, out=2048, q=2048, kv=256, ffn=11008),
}
SIXTH_SHAPES = {
    "llama3.1-405b": dict(hidden=16384, out=16384, q=16384, kv=1024, ffn=53248),
    "qwen2.5-72b": dict(hidden=8192, out=8192, q=8192, kv=1024, ffn=29568),
    "yi-1.5-34b": dict(hidden=7168, out=7168, q=7168, kv=1024, ffn=20480),
    "falcon3-7b": dict(hidden=3072, out=3072, q=3072, kv=1024, ffn=23040),
    "smollm2-1.7b": dict(hidden=2048, out=2048, q=2048, kv=2048, ffn=8192),
    "granite-3.1-8b": dict(hidden=4096, out=4096, q=4096, kv=1024, ffn=12800),
    "olmo-2-7b": dict(hidden=4096, out=4096, q=4096, kv=4096, ffn=11008),
}
SEVENTH_SHAPES = {
    "qwen2.5-32b": dict(hidden=5120, out=5120, q=5120, kv=1024, ffn=27648),
    "gemma-2-27b": dict(hidden=4608, out=4608, q=4096, kv=2048, ffn=36864),
    "llama2-13b": dict(hidden=5120, out=5120, q=5120, kv=5120, ffn=13824),
    "mistral-large-123b": dict(hidden=12288, out=12288, q=12288, kv=1024, ffn=28672),
    "command-r-35b": dict(hidden=8192, out=8192, q=8192, kv=8192, ffn=22528),
    "starcoder2-15b": dict(hidden=6144, out=6144, q=6144, kv=512, ffn=24576),
    "qwen3-1.7b": dict(hidden=2048, out=2048, q=2048, kv=1024, ffn=6144),
}
# Every shape of the first three sets, for the fifth (calibration) set.
SEEN_SHAPES = {**SHAPES, **SECOND_SHAPES, **THIRD_SHAPES}
KERNELS = [("sgemm_lora_a", 1), ("sgemm_lora_a", 2), ("sgemm_lora_a", 3),
           ("sgemm_lora_b", 0), ("qkv_lora_b", 0), ("gate_up_lora_b", 0)]
DECODE_BS = [1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024]


def case(rng, n, shapes=SHAPES, split=None):
    shape = rng.choice(list(shapes))
    kernel, stack = rng.choice(KERNELS)
    R = rng.choice([8, 16, 32, 64, 64, 128])
    mlpb = rng.choice([4, 8, 16, 32, 64, 128])
    mode = "extend" if rng.random() < 0.3 else "decode"
    if mode == "decode":
        bs = rng.choice(DECODE_BS)
        seqlens = [1] * bs
    else:
        bs = rng.choice([1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64])
        cap = rng.choice([64, 256, 1024, 4096])
        seqlens = [max(1, int(2 ** rng.uniform(0, 11))) for _ in range(bs)]
        scale = min(1.0, cap / sum(seqlens))
        seqlens = [max(1, int(s * scale)) for s in seqlens]
    # Ranks of the loaded slots: one rank, or a mix below R.
    mixed = rng.random() < 0.3
    used = rng.choice([1, 1, 2, 3, 4, 8, 16, 32, 64, 128])
    used = max(1, min(used, mlpb, bs))
    base = rng.random() < 0.25 and mlpb > used  # some sequences on the base model
    ranks = [0] * mlpb
    loaded = list(range(used))
    if rng.random() < 0.3:  # idle but loaded slots: empty-segment exits, not rank-0
        loaded = list(range(min(mlpb - (1 if base else 0), used + rng.choice([1, 4, 16]))))
    for s in loaded:
        ranks[s] = rng.choice([R // 4 or 1, R // 2 or 1, R]) if mixed else R
    for s in range(used):
        ranks[s] = ranks[s] or R
    scalings = [round(rng.choice([0.25, 0.5, 1.0, 2.0]), 2) if r else 0.0 for r in ranks]
    mix = rng.choice(["rr", "random", "skewed"])
    slots = list(range(used))
    if mix == "rr":
        wi = [slots[i % used] for i in range(bs)]
    elif mix == "random":
        wi = [rng.choice(slots) for _ in range(bs)]
    else:
        weights = [1.0 / (k + 1) ** 1.2 for k in range(used)]
        wi = rng.choices(slots, weights=weights, k=bs)
    if base:
        for i in range(bs):
            if rng.random() < 0.2:
                wi[i] = mlpb - 1
    # A set with one split draws no random number for it.
    held = split == "holdout" if split else shape == "qwen3-4b" or rng.random() < 0.4
    return dict(id=n, set="holdout" if held else "calib", shape=shape,
                kernel=kernel, stack=stack, dims=shapes[shape], mlpb=mlpb, R=R,
                ranks=ranks, scalings=scalings, mode=mode, seqlens=seqlens, wi=wi, mix=mix)


# The sets besides the first: flag → (help, seed, first id, cases, shapes, split).
SETS = {
    "second": ("the second, wholly held-out set", 2, 1000, 420, SECOND_SHAPES, "holdout"),
    "third": ("the third, wholly held-out set", 3, 2000, 420, THIRD_SHAPES, "holdout"),
    "fourth": ("the fourth, wholly held-out set", 4, 3000, 600, FOURTH_SHAPES, "holdout"),
    "fifth": ("more calibration cases on every earlier shape", 5, 4000, 840, SEEN_SHAPES, "calib"),
    "sixth": ("the fifth held-out set, on seven more shapes", 6, 5000, 600, SIXTH_SHAPES, "holdout"),
    "seventh": ("the sixth held-out set, on seven more shapes", 7, 6000, 600, SEVENTH_SHAPES, "holdout"),
}


def main():
    ap = argparse.ArgumentParser()
    group = ap.add_mutually_exclusive_group()
    for flag, (what, *_) in SETS.items():
        group.add_argument("--" + flag, action="store_true", help=what)
    a = ap.parse_args()
    chosen = [flag for flag in SETS if getattr(a, flag)]
    # The first set: seed 22386, ids from 0, each case's split its own draw.
    _, seed, first, count, shapes, split = SETS[chosen[0]] if chosen else (None, 22386, 0, 420, SHAPES, None)
    rng = random.Random(seed)
    for n in range(first, first + count):
        print(json.dumps(case(rng, n, shapes, split), separators=(",", ":")))


if __name__ == "__main__":
    main()
