#!/usr/bin/env python3
"""Times SGLang's csgmv kernels and vLLM's lora_shrink / lora_expand on a GPU,
on the cases `measure_sglang.py` times SGLang's triton kernels on.

Runs on the lent GPU machine (not in CI). The kernel files are loaded by path
from the released packages, unchanged, with the few imports they need
satisfied by stand-ins (importing `sglang` or `vllm` pulls in a whole server):

- SGLang 0.5.23 wheel: `chunked_sgmv_shrink.py`, `chunked_sgmv_expand.py`.
  Stand-ins: the batch-info dataclass, `cached_triton_kernel` (a cache of
  compiled variants; identity here), `envs` (split-K and deterministic
  inference off, their defaults), and the block-size lookup, which returns
  the defaults (shrink BLOCK_N 16 / BLOCK_K 256, expand 64 / 16): the wheel
  ships tuned H200 configs for a few small shapes only (K ≤ 6144 at R 64),
  and lora-viz plans the defaults.
- vLLM 0.33.0 wheel: `vllm/lora/ops/triton_ops/` (`lora_shrink_op.py`,
  `lora_expand_op.py`, `kernel_utils.py`, `utils.py`). Stand-ins: `envs`
  (defaults: no tuned config folder, no batch invariance, no dual stream),
  `current_platform` (CUDA, the device's capability), `init_logger`,
  `next_power_of_2`, `async_tensor_h2d`, `direct_register_custom_op` (absent:
  the ops are called directly) and `vllm.triton_utils` (triton itself).
  `get_lora_op_configs` is vLLM's own: with no tuned folder it returns the
  defaults docs/strategies.md lists.

Routing, as docs/strategies.md describes:
- csgmv: tokens stably sorted by slot, each slot's run cut into chunks of
  16 (eager: `num_segments` segments; graph: a buffer of bs segments, the
  padding zero-length, `use_cuda_graph=True`); the expand gets
  `slice_offsets_cpu`, so its grid is the flattened one SGLang's layers use.
- vllm: token LoRA id = slot, or -1 on a rank-0 slot; the metadata of
  `lora_kernel_metadata.py` (stable sort, `max_loras + 1` groups, no
  specialisation); weights zero-padded to R; the shrink's fp32 buffer
  `(stack, S, R)` as vLLM's punica wrapper allocates it; `lora_shrink`
  zeroes that buffer itself (a memset inside the op, timed with it).

Method, as for the triton kernels: a CUDA graph holding 20 back-to-back
calls, replayed 10 times (2 when one call takes over 1 ms), mean per call,
L2 warm. Outputs are checked once against a float32 torch reference.

    python3 gpu/measure_strategies.py SGLANG_WHEEL VLLM_OPS_DIR CASES OUT.jsonl [--budget SECONDS]
"""
import argparse
import importlib
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

from measure_sglang import time_graph

DENSE = "sglang/kernels/ops/lora/dense/"
CSGMV_FILES = ["chunked_sgmv_shrink.py", "chunked_sgmv_expand.py"]
VLLM_FILES = ["lora_shrink_op.py", "lora_expand_op.py", "kernel_utils.py", "utils.py"]
CHUNK = 16


def module(name, **attrs):
    m = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(m, k, v)
    sys.modules[name] = m
    return m


def load_csgmv(wheel, root="/tmp/csgmv_kernels"):
    with zipfile.ZipFile(wheel) as z:
        for f in CSGMV_FILES:
            z.extract(DENSE + f, root)
    for d in ["sglang", "sglang/kernels", "sglang/kernels/ops", "sglang/kernels/ops/lora", DENSE.rstrip("/")]:
        open(os.path.join(root, d, "__init__.py"), "a").close()
    sys.path.insert(0, root)

    @dataclass
    class LoRABatchInfo:  # the fields the csgmv wrappers read
        bs: int
        num_segments: int
        max_len: int
        seg_indptr: torch.Tensor
        weight_indices: torch.Tensor
        lora_ranks: torch.Tensor
        scalings: torch.Tensor
        permutation: torch.Tensor
        use_cuda_graph: bool

    class Flag:
        def __init__(self, v):
            self.v = v

        def get(self):
            return self.v

    module("sglang.srt")
    module("sglang.srt.lora")
    module("sglang.srt.lora.utils", LoRABatchInfo=LoRABatchInfo)
    module("sglang.srt.utils", cached_triton_kernel=lambda key: (lambda f: f))
    module("sglang.srt.environ", envs=types.SimpleNamespace(
        SGLANG_ENABLE_LORA_CSGMV_SPLIT_K=Flag(False), SGLANG_ENABLE_DETERMINISTIC_INFERENCE=Flag(False)))
    module("sglang.kernels.ops.lora.dense.lora_tuning_config",
           get_lora_shrink_config=lambda **kw: {"BLOCK_N": 16, "BLOCK_K": 256},
           get_lora_expand_config=lambda **kw: {"BLOCK_N": 64, "BLOCK_K": 16})
    shrink = importlib.import_module("sglang.kernels.ops.lora.dense.chunked_sgmv_shrink")
    expand = importlib.import_module("sglang.kernels.ops.lora.dense.chunked_sgmv_expand")
    return LoRABatchInfo, shrink, expand


def load_vllm(ops_dir, dev):
    root = "/tmp/vllm_kernels"
    pkg = os.path.join(root, "vllm/lora/ops/triton_ops")
    os.makedirs(pkg, exist_ok=True)
    for f in VLLM_FILES:
        with open(os.path.join(ops_dir, f)) as src, open(os.path.join(pkg, f), "w") as dst:
            dst.write(src.read())
    for d in ["vllm", "vllm/lora", "vllm/lora/ops", "vllm/lora/ops/triton_ops"]:
        open(os.path.join(root, d, "__init__.py"), "a").close()
    sys.path.insert(0, root)
    import triton
    import triton.language as tl
    cap = torch.cuda.get_device_capability(dev)

    class Platform:
        def is_cuda(self):
            return True

        def is_device_capability(self, c):
            return cap[0] * 10 + cap[1] == c

        def has_device_capability(self, c):
            return cap[0] * 10 + cap[1] >= c

    class Logger:
        def __getattr__(self, name):
            return lambda *a, **k: None

    envs = module("vllm.envs", VLLM_TUNED_CONFIG_FOLDER=None, VLLM_BATCH_INVARIANT=False,
                  VLLM_LORA_ENABLE_DUAL_STREAM=False, VLLM_LORA_DISABLE_PDL=True)
    importlib.import_module("vllm").envs = envs
    module("vllm.platforms", current_platform=Platform())
    module("vllm.logger", init_logger=lambda name: Logger())
    module("vllm.utils")
    module("vllm.utils.math_utils", next_power_of_2=lambda n: 1 if n <= 1 else 1 << (n - 1).bit_length())
    module("vllm.utils.torch_utils",
           async_tensor_h2d=lambda data, dtype, device, pin_memory=False: torch.tensor(data, dtype=dtype, device=device),
           direct_register_custom_op=None)  # calling None raises TypeError: caught below as "not registered"
    module("vllm.triton_utils", triton=triton, tl=tl)
    for name in ["lora_shrink_op", "lora_expand_op"]:
        path = os.path.join(pkg, name + ".py")
        text = open(path).read()
        # The ops register themselves as torch custom ops in a try/except AttributeError;
        # without vLLM's registry call the plain functions.
        text = text.replace("except AttributeError:", "except (AttributeError, TypeError):")
        open(path, "w").write(text)
    shrink = importlib.import_module("vllm.lora.ops.triton_ops.lora_shrink_op")
    expand = importlib.import_module("vllm.lora.ops.triton_ops.lora_expand_op")
    return shrink._lora_shrink, expand._lora_expand


def tokens_of(c):
    lens = c["seqlens"] if c["mode"] == "extend" else [1] * len(c["wi"])
    return [s for s, l in zip(c["wi"], lens) for _ in range(l)]


def csgmv_info(c, Info, ranks, scalings, dev, graph):
    i32 = dict(dtype=torch.int32, device=dev)
    token_slot = tokens_of(c)
    perm = sorted(range(len(token_slot)), key=lambda t: token_slot[t])
    counts = [0] * c["mlpb"]
    for s in token_slot:
        counts[s] += 1
    lens, slots = [], []
    for slot, n in enumerate(counts):
        for start in range(0, n, CHUNK):
            lens.append(min(CHUNK, n - start))
            slots.append(slot)
    live = len(lens)
    if graph:
        buffer = max(live, len(c["wi"]))  # a decode graph captured at max_bs = bs
        lens += [0] * (buffer - live)
        slots += [0] * (buffer - live)
    ind = [0]
    for l in lens:
        ind.append(ind[-1] + l)
    return Info(bs=len(c["wi"]), num_segments=live, max_len=CHUNK, seg_indptr=torch.tensor(ind, **i32),
                weight_indices=torch.tensor(slots, **i32), lora_ranks=ranks, scalings=scalings,
                permutation=torch.tensor(perm, **i32), use_cuda_graph=graph), len(lens)


def vllm_meta(c, dev):
    ids = [s if c["ranks"][s] > 0 else -1 for s in tokens_of(c)]
    order = sorted(range(len(ids)), key=lambda t: ids[t])
    present = sorted(set(ids))
    z = c["mlpb"] + 1
    counts = [ids.count(i) for i in present] + [0] * (z - len(present))
    lora_ids = present + [-1] * (z - len(present))
    start = [0]
    for n in counts:
        start.append(start[-1] + n)
    i32 = dict(dtype=torch.int32, device=dev)
    return dict(token_lora_mapping=torch.tensor(ids, **i32), token_indices_sorted_by_lora_ids=torch.tensor(order, **i32),
                num_tokens_per_lora=torch.tensor(counts, **i32), lora_token_start_loc=torch.tensor(start, **i32),
                lora_ids=torch.tensor(lora_ids, **i32),
                no_lora_flag_cpu=torch.tensor([all(i == -1 for i in ids)], dtype=torch.bool),
                num_active_loras=torch.tensor([z], dtype=torch.int32)), present


def run_case(c, csgmv, vllm_ops, dev):
    Info, cs_shrink, cs_expand = csgmv
    if vllm_ops:
        # vLLM caches weight pointers and strides by data_ptr (its weights live
        # for the whole server); here a freed case's address comes back with
        # another shape, so start each case with empty caches. (The first run
        # of this script lacked this: 16 of 840 vLLM records read stale strides.)
        import vllm.lora.ops.triton_ops.utils as vutils
        vutils._LORA_A_PTR_DICT.clear()
        vutils._LORA_B_PTR_DICT.clear()
    d, R, mlpb, k = c["dims"], c["R"], c["mlpb"], c["kernel"]
    bf = torch.bfloat16
    token_slot = tokens_of(c)
    S = len(token_slot)
    ranks = torch.tensor(c["ranks"], dtype=torch.int32, device=dev)
    scalings = torch.tensor(c["scalings"], dtype=torch.float32, device=dev)
    g = torch.Generator(device=dev).manual_seed(c["id"])
    slot_of = torch.tensor(token_slot, device=dev)
    rank_of = torch.tensor([c["ranks"][s] for s in token_slot], device=dev)
    rec = {kk: c[kk] for kk in ["id", "set", "shape", "kernel", "stack", "dims", "mlpb", "R", "ranks", "scalings", "mode", "seqlens", "wi", "mix"]}
    if k == "sgemm_lora_a":
        stack = c["stack"]
        x = torch.randn(S, d["hidden"], device=dev, dtype=bf, generator=g)
        # Slice q of a rank-r adapter uses rows q·r ..< q·r + r (csgmv's packed layout).
        w = torch.randn(mlpb, stack * R, d["hidden"], device=dev, dtype=bf, generator=g) * 0.02
        ref = torch.zeros(S, stack * R, device=dev)
        for s in set(token_slot):
            rows = slot_of == s
            ref[rows] = x[rows].float() @ w[s].float().T
        valid = torch.arange(stack * R, device=dev)[None, :] < (stack * rank_of)[:, None]
        for graph, tag in [(False, "csgmv"), (True, "csgmv_graph")]:
            info, segs = csgmv_info(c, Info, ranks, scalings, dev, graph)
            rec["segs_" + tag] = segs
            fn = lambda: cs_shrink.chunked_sgmv_lora_shrink_forward(x, w, info, stack)
            out = fn().float()
            rec["maxdiff_" + tag] = float(torch.where(valid, out - ref, torch.zeros_like(out)).abs().max())
            rec["g20_" + tag] = time_graph(fn)
        if vllm_ops:
            shrink, _ = vllm_ops
            # vLLM's layout: one (num_lora, R, hidden) weight per slice, rank rows zero-padded.
            wv = []
            for q in range(stack):
                t = torch.zeros(mlpb, R, d["hidden"], device=dev, dtype=bf)
                for s in range(mlpb):
                    r = c["ranks"][s]
                    t[s, :r] = w[s, q * r:(q + 1) * r]
                wv.append(t.contiguous())
            meta, _ = vllm_meta(c, dev)
            buf = torch.empty(stack, S, R, device=dev, dtype=torch.float32)
            fn = lambda: shrink(x, wv, buf, meta["token_lora_mapping"], meta["token_indices_sorted_by_lora_ids"],
                                meta["num_tokens_per_lora"], meta["lora_token_start_loc"], meta["lora_ids"],
                                meta["no_lora_flag_cpu"], meta["num_active_loras"], 1.0)
            fn()
            out = torch.cat([buf[q] for q in range(stack)], dim=1)  # (S, stack·R), vLLM's per-slice order
            refv = torch.zeros(S, stack * R, device=dev)
            for s in set(token_slot):
                rows = slot_of == s
                refv[rows] = torch.cat([x[rows].float() @ wv[q][s].float().T for q in range(stack)], dim=1)
            lora = (rank_of > 0)[:, None]
            rec["maxdiff_vllm"] = float(torch.where(lora, out - refv, torch.zeros_like(out)).abs().max())
            rec["g20_vllm"] = time_graph(fn)
        return rec
    widths = {"sgemm_lora_b": [d["out"]], "qkv_lora_b": [d["q"], d["kv"], d["kv"]],
              "gate_up_lora_b": [d["ffn"], d["ffn"]]}[k]
    n_out = sum(widths)
    slices = len(widths)
    x = torch.randn(S, slices * R, device=dev, dtype=bf, generator=g)
    w = torch.randn(mlpb, n_out, R, device=dev, dtype=bf, generator=g) * 0.02
    base = torch.randn(S, n_out, device=dev, dtype=bf, generator=g)
    offsets = [0]
    for wd in widths:
        offsets.append(offsets[-1] + wd)
    offs = torch.tensor(offsets, dtype=torch.int32, device=dev)
    # Reference: out = base + scaling · x_q[:, :r] · B[:, :r]ᵀ per slice q (csgmv reads x columns q·r …).
    ref = base.float().clone()
    for s in set(token_slot):
        r, rows = c["ranks"][s], slot_of == s
        for q in range(slices if r > 0 else 0):
            ref[rows, offsets[q]:offsets[q + 1]] += c["scalings"][s] * (x[rows, q * r:q * r + r].float() @ w[s, offsets[q]:offsets[q + 1], :r].float().T)
    for graph, tag in [(False, "csgmv"), (True, "csgmv_graph")]:
        info, segs = csgmv_info(c, Info, ranks, scalings, dev, graph)
        rec["segs_" + tag] = segs
        work = base.clone()
        fn = lambda: cs_expand.chunked_sgmv_lora_expand_forward(x, w, info, offs, max(widths), work,
                                                               slice_offsets_cpu=torch.tensor(offsets))
        fn()
        rec["maxdiff_" + tag] = float((work.float() - ref).abs().max())
        rec["g20_" + tag] = time_graph(fn)
    if vllm_ops:
        _, expand = vllm_ops
        # vLLM: per-slice fp32 inputs (slices, S, R), B weights per slice padded to R, no scaling in the expand.
        xin = torch.zeros(slices, S, R, device=dev, dtype=torch.float32)
        for s in set(token_slot):
            r, rows = c["ranks"][s], (slot_of == s).nonzero().flatten()
            for q in range(slices if r > 0 else 0):
                xin[q, rows, :r] = x[rows, q * r:q * r + r].float() * c["scalings"][s]
        wv = []
        for q in range(slices):
            t_ = torch.zeros(mlpb, widths[q], R, device=dev, dtype=bf)
            for s in range(mlpb):
                r = c["ranks"][s]
                t_[s, :, :r] = w[s, offsets[q]:offsets[q + 1], :r]
            wv.append(t_.contiguous())
        meta, _ = vllm_meta(c, dev)
        work = base.clone()
        fn = lambda: expand(xin, wv, work, meta["token_lora_mapping"], meta["token_indices_sorted_by_lora_ids"],
                            meta["num_tokens_per_lora"], meta["lora_token_start_loc"], meta["lora_ids"],
                            meta["no_lora_flag_cpu"], meta["num_active_loras"], offset_start=0, add_inputs=True)
        fn()
        rec["maxdiff_vllm"] = float((work.float() - ref).abs().max())
        rec["g20_vllm"] = time_graph(fn)
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wheel")
    ap.add_argument("vllm_ops", help="vllm/lora/ops/triton_ops of the vLLM wheel, or '-' to skip vLLM")
    ap.add_argument("cases")
    ap.add_argument("out")
    ap.add_argument("--budget", type=float, default=420)
    ap.add_argument("--limit", type=int, default=0, help="at most this many cases (0: all)")
    a = ap.parse_args()
    dev = torch.device("cuda")
    csgmv = load_csgmv(a.wheel)
    vllm_ops = None
    if a.vllm_ops != "-":
        try:
            vllm_ops = load_vllm(a.vllm_ops, dev)
        except Exception as e:
            print(f"vLLM kernels not loaded, skipping them: {e!r}", flush=True)
    p = torch.cuda.get_device_properties(dev)
    cases = [json.loads(l) for l in open(a.cases)]
    random.Random(3).shuffle(cases)
    if a.limit:
        cases = cases[:a.limit]
    start = time.time()
    with open(a.out, "w") as f:
        meta = {"type": "meta", "gpu": p.name, "sms": p.multi_processor_count, "torch": torch.__version__,
                "triton": __import__("triton").__version__, "wheel": os.path.basename(a.wheel),
                "vllm": "0.33.0" if vllm_ops else None, "chunk": CHUNK,
                "method": "CUDA graph of 20 calls, mean of 10 replays (2 when a call > 1 ms)"}
        f.write(json.dumps(meta) + "\n")
        print(json.dumps(meta), flush=True)
        done = 0
        for c in cases:
            if time.time() - start > a.budget:
                break
            try:
                rec = run_case(c, csgmv, vllm_ops, dev)
            except Exception as e:
                rec = {"id": c["id"], "error": repr(e)[:300]}
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
            f.flush()
            done += 1
            if done == 4 and all("error" in json.loads(l) for l in open(a.out).readlines()[1:]):
                sys.exit("the first four cases all failed: " + rec["error"])
            if done % 20 == 0:
                print(f"{done} cases, {time.time() - start:.0f} s", flush=True)
            torch.cuda.empty_cache()
        print(f"measured {done} of {len(cases)} cases in {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
