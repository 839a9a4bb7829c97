#!/usr/bin/env python3
"""Times the real SGLang LoRA kernels on a GPU for lora-viz's calibration.

Runs on the lent GPU machine (not in CI). It loads the four kernel files of
the sglang wheel unchanged (`sgemm_lora_a`, `sgemm_lora_b`, `qkv_lora_b`,
`gate_up_lora_b`, `kernel_utils`), supplying only the batch-info dataclass
they import for type hints, and times every case of a cases file under
three routings built exactly as docs/gpu-model.md describes:

- per-sequence: one segment per sequence, `max_len = max(len)`;
- sorted: tokens stably sorted by slot, one segment per slot, `max_len = S`;
- tight: the sorted routing with `max_len` = the longest segment.

Method, as in the shipped H200 data: a CUDA graph holding 20 back-to-back
calls, replayed 10 times (2 when one call takes over 1 ms), mean per call,
L2 warm. Outputs of the routings are compared once, eagerly.

    python3 gpu/measure_sglang.py WHEEL CASES OUT.jsonl [--budget SECONDS]
"""
import argparse
import json
import os
import random
import sys
import time
import types
import zipfile
from dataclasses import dataclass
from typing import Optional

import torch

DENSE = "sglang/kernels/ops/lora/dense/"
FILES = ["sgemm_lora_a.py", "sgemm_lora_b.py", "qkv_lora_b.py", "gate_up_lora_b.py", "kernel_utils.py"]


def load_kernels(wheel, root="/tmp/sglang_kernels"):
    """Unpacks the kernel files from the wheel and imports them."""
    with zipfile.ZipFile(wheel) as z:
        for f in FILES:
            z.extract(DENSE + f, root)
    for d in ["sglang", "sglang/kernels", "sglang/kernels/ops", "sglang/kernels/ops/lora", DENSE.rstrip("/")]:
        open(os.path.join(root, d, "__init__.py"), "a").close()
    sys.path.insert(0, root)

    @dataclass
    class LoRABatchInfo:  # the fields the four kernels read
        bs: int
        max_len: int
        seg_lens: torch.Tensor
        seg_indptr: torch.Tensor
        weight_indices: torch.Tensor
        lora_ranks: torch.Tensor
        scalings: torch.Tensor
        permutation: Optional[torch.Tensor] = None

    for name in ["sglang.srt", "sglang.srt.lora"]:
        sys.modules[name] = types.ModuleType(name)
    utils = types.ModuleType("sglang.srt.lora.utils")
    utils.LoRABatchInfo = LoRABatchInfo
    sys.modules["sglang.srt.lora.utils"] = utils
    import importlib
    mods = {f[:-3]: importlib.import_module("sglang.kernels.ops.lora.dense." + f[:-3]) for f in FILES}
    return LoRABatchInfo, mods


def routing(kind, c, dev, Info, ranks, scalings):
    lens = c["seqlens"] if c["mode"] == "extend" else [1] * len(c["wi"])
    wi = c["wi"]
    mlpb = c["mlpb"]
    i32 = dict(dtype=torch.int32, device=dev)
    if kind in ("per-sequence", "per-sequence-ident"):
        # per-sequence-ident (gpu/probe_routing_variant.py): the same grid, the
        # kernel's sorted variant through the identity permutation.
        seg = lens
        ind = [0]
        for l in seg:
            ind.append(ind[-1] + l)
        ident = torch.arange(sum(seg), **i32) if kind == "per-sequence-ident" else None
        return Info(bs=len(seg), max_len=max(seg), seg_lens=torch.tensor(seg, **i32),
                    seg_indptr=torch.tensor(ind, **i32), weight_indices=torch.tensor(wi, **i32),
                    lora_ranks=ranks, scalings=scalings, permutation=ident)
    token_slot = [s for s, l in zip(wi, lens) for _ in range(l)]
    perm = sorted(range(len(token_slot)), key=lambda t: token_slot[t])  # stable
    seg = [0] * mlpb
    for s in token_slot:
        seg[s] += 1
    ind = [0]
    for l in seg:
        ind.append(ind[-1] + l)
    S = len(token_slot)
    max_len = max(seg) if kind == "tight" else S
    # sorted-noperm (the probe): the sorted grid, the per-sequence variant (rows
    # read in place; its output is not compared, only timed).
    permutation = None if kind == "sorted-noperm" else torch.tensor(perm, **i32)
    return Info(bs=mlpb, max_len=max_len, seg_lens=torch.tensor(seg, **i32),
                seg_indptr=torch.tensor(ind, **i32), weight_indices=torch.arange(mlpb, **i32),
                lora_ranks=ranks, scalings=scalings, permutation=permutation)


def launched(c, info):
    k, d, R = c["kernel"], c["dims"], c["R"]
    rows = -(-info.max_len // 16)
    if k == "sgemm_lora_a":
        return rows * -(-(c["stack"] * R) // 16) * info.bs
    if k == "sgemm_lora_b":
        return rows * -(-d["out"] // 256) * info.bs
    if k == "qkv_lora_b":
        return rows * -(-max(d["q"], d["kv"]) // 64) * 3 * info.bs
    return rows * -(-d["ffn"] // 64) * 2 * info.bs


def time_graph(fn, calls=20):
    fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    once = time.perf_counter() - t0
    reps = 2 if once > 1e-3 else 10
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        fn()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(calls):
            fn()
    g.replay()
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    for _ in range(reps):
        g.replay()
    b.record()
    torch.cuda.synchronize()
    return a.elapsed_time(b) * 1000 / (reps * calls)


ROUTINGS = [("per-sequence", "perseq"), ("sorted", "sorted"), ("tight", "tight")]


def run_case(c, mods, Info, dev, routings=ROUTINGS):
    d, R, mlpb = c["dims"], c["R"], c["mlpb"]
    bf = torch.bfloat16
    S = sum(c["seqlens"]) if c["mode"] == "extend" else len(c["wi"])
    ranks = torch.tensor(c["ranks"], dtype=torch.int32, device=dev)
    scalings = torch.tensor(c["scalings"], dtype=torch.float32, device=dev)
    g = torch.Generator(device=dev).manual_seed(c["id"])
    k = c["kernel"]
    if k == "sgemm_lora_a":
        x = torch.randn(S, d["hidden"], device=dev, dtype=bf, generator=g)
        w = torch.randn(mlpb, c["stack"] * R, d["hidden"], device=dev, dtype=bf, generator=g) * 0.02
        n_out = c["stack"] * R
        fn_for = lambda info, out: (lambda: mods["sgemm_lora_a"].sgemm_lora_a_fwd(x, w, info, stack_num=c["stack"]))
    elif k == "sgemm_lora_b":
        x = torch.randn(S, R, device=dev, dtype=bf, generator=g)
        w = torch.randn(mlpb, d["out"], R, device=dev, dtype=bf, generator=g) * 0.02
        n_out = d["out"]
        fn_for = lambda info, out: (lambda: mods["sgemm_lora_b"].sgemm_lora_b_fwd(x, w, info, base_output=out))
    elif k == "qkv_lora_b":
        x = torch.randn(S, 3 * R, device=dev, dtype=bf, generator=g)
        n_out = d["q"] + 2 * d["kv"]
        w = torch.randn(mlpb, n_out, R, device=dev, dtype=bf, generator=g) * 0.02
        offs = torch.tensor([0, d["q"], d["q"] + d["kv"], n_out], dtype=torch.int32, device=dev)
        mx = max(d["q"], d["kv"])
        fn_for = lambda info, out: (lambda: mods["qkv_lora_b"].qkv_lora_b_fwd(x, w, info, offs, mx, base_output=out))
    else:
        x = torch.randn(S, 2 * R, device=dev, dtype=bf, generator=g)
        n_out = 2 * d["ffn"]
        w = torch.randn(mlpb, n_out, R, device=dev, dtype=bf, generator=g) * 0.02
        fn_for = lambda info, out: (lambda: mods["gate_up_lora_b"].gate_up_lora_b_fwd(x, w, info, d["ffn"], base_output=out))
    base = torch.randn(S, n_out, device=dev, dtype=bf, generator=g)
    rec = {kk: c[kk] for kk in ["id", "set", "shape", "kernel", "stack", "dims", "mlpb", "R", "ranks", "scalings", "mode", "seqlens", "wi", "mix"]}
    outs = {}
    for kind, tag in routings:
        info = routing(kind, c, dev, Info, ranks, scalings)
        rec["L_" + tag] = launched(c, info)
        out = base.clone()
        r = fn_for(info, out)()
        outs[tag] = (r if k == "sgemm_lora_a" else out).float().clone()
        work = base.clone()
        rec["g20_" + tag] = time_graph(fn_for(info, work))
    if k == "sgemm_lora_a":
        # The shrink writes only each token's first stack·rank columns (the
        # wheel allocates its output with torch.empty): compare those.
        lens = c["seqlens"] if c["mode"] == "extend" else [1] * len(c["wi"])
        token_rank = [c["ranks"][s] for s, l in zip(c["wi"], lens) for _ in range(l)]
        cols = torch.arange(n_out, device=dev)[None, :]
        valid = cols < (c["stack"] * torch.tensor(token_rank, device=dev))[:, None]
        for tag in outs:
            outs[tag] = torch.where(valid, outs[tag], torch.zeros_like(outs[tag]))
    for name, tag in [("maxdiff_between", "sorted"), ("maxdiff_tight", "tight"), ("maxdiff_ident", "ident")]:
        if tag in outs:
            rec[name] = float((outs["perseq"] - outs[tag]).abs().max())
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wheel")
    ap.add_argument("cases")
    ap.add_argument("out")
    ap.add_argument("--budget", type=float, default=420)
    ap.add_argument("--shuffle-seed", type=int, default=1, help="order of the cases (a repeat run uses another)")
    a = ap.parse_args()
    Info, mods = load_kernels(a.wheel)
    dev = torch.device("cuda")
    p = torch.cuda.get_device_properties(dev)
    cases = [json.loads(l) for l in open(a.cases)]
    random.Random(a.shuffle_seed).shuffle(cases)  # a cut-off run loses a random subset, not one kind
    start = time.time()
    with open(a.out, "w") as f:
        # Copy bandwidth, counting bytes read plus written (the profile's DRAM figure).
        src = torch.empty(1 << 30, dtype=torch.uint8, device=dev)
        dst = torch.empty_like(src)
        for _ in range(3):
            dst.copy_(src)
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        for _ in range(10):
            dst.copy_(src)
        e1.record()
        torch.cuda.synchronize()
        bw = 2 * (1 << 30) * 10 / (e0.elapsed_time(e1) / 1000) / 1e9
        del src, dst
        meta = {"type": "meta", "gpu": p.name, "sms": p.multi_processor_count,
                "l2_bytes": getattr(p, "L2_cache_size", None), "torch": torch.__version__,
                "triton": __import__("triton").__version__, "copy_GBps": bw,
                "wheel": os.path.basename(a.wheel), "method": "CUDA graph of 20 calls, mean of 10 replays (2 when a call > 1 ms)"}
        f.write(json.dumps(meta) + "\n")
        f.flush()
        print(json.dumps(meta), flush=True)
        done = 0
        for c in cases:
            if time.time() - start > a.budget:
                break
            try:
                rec = run_case(c, mods, Info, dev)
            except Exception as e:  # keep going; record why
                rec = {"id": c["id"], "error": repr(e)[:300]}
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
            f.flush()
            done += 1
            if done == 6 and all("error" in json.loads(l) for l in open(a.out).readlines()[1:]):
                sys.exit("the first six cases all failed: " + rec["error"])
            if done % 20 == 0:
                print(f"{done} cases, {time.time() - start:.0f} s", flush=True)
            torch.cuda.empty_cache()
        print(f"measured {done} of {len(cases)} cases in {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
