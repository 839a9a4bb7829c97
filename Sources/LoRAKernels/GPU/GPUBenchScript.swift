/// The script `lora-viz gpu-bench` writes beside the batch (`lora_viz_gpu_bench.py`).
///
/// Kept here as a Swift string rather than a SwiftPM resource: the binary is
/// then the whole tool (no resource bundle to find beside an installed
/// executable), and the text the tests compile is the text users get. Edit
/// it here; `GPUBenchTests` writes it out and runs `python3 -m py_compile`.
public enum GPUBenchScript {
    public static let text = #"""
#!/usr/bin/env python3
"""Runs one lora-viz batch on the real LoRA kernels of a GPU.

Written by `lora-viz gpu-bench` beside the batch it exports (batch.json,
manifest.json and the .npy files of `lora-viz run --dump`). Needs torch,
triton and numpy, not lora-viz. For every strategy of batch.json it:

1. loads the strategy's real kernels by file path, unchanged:
   - SGLang `triton` (per-sequence, sorted, tight): sgemm_lora_a.py,
     sgemm_lora_b.py, qkv_lora_b.py, gate_up_lora_b.py, kernel_utils.py;
   - SGLang `csgmv` (csgmv, csgmv-graph): chunked_sgmv_shrink.py,
     chunked_sgmv_expand.py;
   from `--sglang` (a wheel, or a folder holding sglang/kernels/ops/lora/dense/,
   or the installed package, found without importing it), and
   - vLLM (vllm): lora_shrink_op.py, lora_expand_op.py, kernel_utils.py,
     utils.py from `--vllm-ops` (a folder of those files, or the installed
     package's vllm/lora/ops/triton_ops); skipped, with a line saying so,
     when neither is there.
   Importing `sglang` or `vllm` pulls in a whole server, so the files are
   copied into a scratch package and the few imports they make are satisfied
   by stand-ins: SGLang's LoRABatchInfo dataclass (the fields the kernels
   read), `cached_triton_kernel` (identity), `envs` (csgmv split-K and
   deterministic inference off, their defaults), csgmv's block-size lookup
   (the defaults lora-viz plans: shrink 16 x 256, expand 64 x 16); vLLM's
   `envs` (no tuned config folder, no batch invariance, no dual stream, PDL
   off), `current_platform` (CUDA, this device's capability), `init_logger`,
   `next_power_of_2`, `async_tensor_h2d`, `triton_utils`, and no custom-op
   registry (the ops are called directly);
2. rebuilds the strategy's routing the way its backend builds its batch info
   (a transcription of SGLang's / vLLM's host code for these batches) and
   checks it equals the one lora-viz planned (batch.json);
3. runs the kernels on the dumped inputs and compares with lora-viz's CPU
   output, cell by cell, in units in the last place of the batch's dtype
   (only cells lora-viz wrote: a shrink leaves rank-0 rows unwritten);
4. times the launch: a CUDA graph holding 20 back-to-back calls, replayed
   `--replays` times after one warm replay; the figure is the mean per call
   (L2 warm, inputs resident), and the median and min of the replays are kept.

It writes one JSON file (`--out`, default gpu-results.json here): the GPU,
its SM count, the versions, the method, the batch's fingerprint (lora-viz
refuses the file for any other batch) and per strategy the measured us.

    python3 lora_viz_gpu_bench.py [--sglang WHEEL_OR_DIR] [--vllm-ops DIR|-] [--out FILE] [--replays N]
    TRITON_INTERPRET=1 python3 lora_viz_gpu_bench.py --self-check   # CPU, fp16/fp32 batches: checks, no timing

--self-check runs every kernel on the CPU under Triton's interpreter and
checks routings and outputs only; bf16 batches are refused there (the
interpreter's bf16 tl.dot is broken).
"""
import argparse
import importlib
import importlib.util
import json
import math
import os
import shutil
import sys
import tempfile
import time
import types
import zipfile
from dataclasses import dataclass
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = "lora-viz gpu results v1"
DENSE = "sglang/kernels/ops/lora/dense/"
SGLANG_FILES = ["sgemm_lora_a.py", "sgemm_lora_b.py", "qkv_lora_b.py", "gate_up_lora_b.py", "kernel_utils.py",
                "chunked_sgmv_shrink.py", "chunked_sgmv_expand.py"]
VLLM_FILES = ["lora_shrink_op.py", "lora_expand_op.py", "kernel_utils.py", "utils.py"]
CALLS = 20
METHOD = ("CUDA graph of %d back-to-back calls, one warm replay, then the mean per call over N replays "
          "(L2 warm); median and min per call over the replays kept" % CALLS)


def module(name, **attrs):
    m = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(m, k, v)
    sys.modules[name] = m
    return m


def find_sglang(arg):
    """A wheel, a folder holding sglang/kernels/ops/lora/dense, or the installed package."""
    if arg:
        return arg
    spec = importlib.util.find_spec("sglang")  # finds the package without running it
    if spec and spec.submodule_search_locations:
        return os.path.dirname(list(spec.submodule_search_locations)[0])
    sys.exit("no sglang found: pass --sglang WHEEL_OR_DIR (pip download sglang==0.5.23 --no-deps gives the wheel)")


def copy_sglang(src, root):
    dst = os.path.join(root, DENSE)
    os.makedirs(dst, exist_ok=True)
    if src.endswith(".whl"):
        with zipfile.ZipFile(src) as z:
            names = set(z.namelist())
            for f in SGLANG_FILES:
                if DENSE + f not in names:
                    sys.exit("%s has no %s" % (src, DENSE + f))
                z.extract(DENSE + f, root)
        return os.path.basename(src)
    for base in [src, os.path.dirname(src.rstrip("/"))]:
        folder = os.path.join(base, DENSE)
        if os.path.isdir(folder):
            for f in SGLANG_FILES:
                shutil.copy(os.path.join(folder, f), os.path.join(dst, f))
            return os.path.abspath(base)
    sys.exit("%s: neither a wheel nor a folder holding %s" % (src, DENSE))


def load_sglang(src, root, torch):
    """SGLang's triton and csgmv kernel modules, loaded by path with stand-in imports."""
    where = copy_sglang(src, root)
    for d in ["sglang", "sglang/kernels", "sglang/kernels/ops", "sglang/kernels/ops/lora", DENSE.rstrip("/")]:
        open(os.path.join(root, d, "__init__.py"), "a").close()
    sys.path.insert(0, root)

    @dataclass
    class LoRABatchInfo:  # the fields the triton and csgmv wrappers read
        bs: int
        max_len: int
        seg_indptr: object
        weight_indices: object
        lora_ranks: object
        scalings: object
        seg_lens: Optional[object] = None
        num_segments: Optional[int] = None
        permutation: Optional[object] = None
        use_cuda_graph: bool = False

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
    mods = {f[:-3]: importlib.import_module("sglang.kernels.ops.lora.dense." + f[:-3]) for f in SGLANG_FILES}
    return LoRABatchInfo, mods, where


def find_vllm_ops(arg):
    if arg == "-":
        return None, "--vllm-ops -"
    if arg:
        return arg, None
    spec = importlib.util.find_spec("vllm")
    if spec and spec.submodule_search_locations:
        d = os.path.join(list(spec.submodule_search_locations)[0], "lora", "ops", "triton_ops")
        if os.path.isdir(d):
            return d, None
    return None, "no --vllm-ops folder and no installed vllm"


def load_vllm(ops_dir, root, torch, dev):
    pkg = os.path.join(root, "vllm/lora/ops/triton_ops")
    os.makedirs(pkg, exist_ok=True)
    for f in VLLM_FILES:
        if not os.path.exists(os.path.join(ops_dir, f)):
            raise FileNotFoundError("%s has no %s" % (ops_dir, f))
        shutil.copy(os.path.join(ops_dir, f), os.path.join(pkg, f))
    for d in ["vllm", "vllm/lora", "vllm/lora/ops", "vllm/lora/ops/triton_ops"]:
        open(os.path.join(root, d, "__init__.py"), "a").close()
    if root not in sys.path:
        sys.path.insert(0, root)
    import triton
    import triton.language as tl
    cap = torch.cuda.get_device_capability(dev) if dev.type == "cuda" else (9, 0)

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
           direct_register_custom_op=None)
    module("vllm.triton_utils", triton=triton, tl=tl)
    for name in ["lora_shrink_op", "lora_expand_op"]:
        path = os.path.join(pkg, name + ".py")
        text = open(path).read()
        # The ops register themselves as torch custom ops in a try/except AttributeError;
        # without vLLM's registry (None here: calling it raises TypeError) the plain functions are used.
        text = text.replace("except AttributeError:", "except (AttributeError, TypeError):")
        open(path, "w").write(text)
    shrink = importlib.import_module("vllm.lora.ops.triton_ops.lora_shrink_op")
    expand = importlib.import_module("vllm.lora.ops.triton_ops.lora_expand_op")
    utils = importlib.import_module("vllm.lora.ops.triton_ops.utils")
    return shrink._lora_shrink, expand._lora_expand, utils


# ---- routings: each backend's batch info for this batch ------------------------------------------

def token_slots(b):
    return [s for s, n in zip(b["sequence_slots"], b["sequence_lengths"]) for _ in range(n)]


def prefix(lens):
    out = [0]
    for n in lens:
        out.append(out[-1] + n)
    return out


def sorted_tokens(b):
    ts = token_slots(b)
    perm = sorted(range(len(ts)), key=lambda t: ts[t])  # stable
    seg = [0] * b["slots"]
    for s in ts:
        seg[s] += 1
    return perm, seg


def csgmv_chunk(b):
    # SGLang csgmv's max_lora_chunk_size rule as lora-viz plans it: 16 by default.
    s = len(token_slots(b))
    natural = 128 if s >= 256 else 32 if s >= 64 else 16
    return max(16, min(b["options"]["chunk"], natural))


def rebuild_routing(name, b):
    """seg_lens, seg_indptr, weight_indices, permutation, max_len as the backend's host code builds them."""
    ts = token_slots(b)
    if name == "per-sequence":
        lens = list(b["sequence_lengths"])
        return dict(seg_lens=lens, seg_indptr=prefix(lens), weight_indices=list(b["sequence_slots"]),
                    permutation=None, max_len=max(lens))
    if name in ("sorted", "tight"):
        perm, seg = sorted_tokens(b)
        return dict(seg_lens=seg, seg_indptr=prefix(seg), weight_indices=list(range(b["slots"])), permutation=perm,
                    max_len=len(ts) if name == "sorted" else max(seg))
    if name in ("csgmv", "csgmv-graph"):
        perm, seg = sorted_tokens(b)
        c = csgmv_chunk(b)
        lens, slots = [], []
        for slot, n in enumerate(seg):
            for start in range(0, n, c):
                lens.append(min(c, n - start))
                slots.append(slot)
        if name == "csgmv-graph":  # a graph's fixed segment buffer; padding is zero-length on slot 0
            buf = max(len(lens), b["options"]["graph_segments"] or len(b["sequence_slots"]))
            pad = buf - len(lens)
            lens, slots = lens + [0] * pad, slots + [0] * pad
        return dict(seg_lens=lens, seg_indptr=prefix(lens), weight_indices=slots, permutation=perm, max_len=c)
    if name == "vllm":  # vLLM's lora_kernel_metadata: stable sort by LoRA id (-1: no LoRA), slots + 1 groups
        ranks = b["ranks"]
        ids = [s if ranks[s] > 0 else -1 for s in ts]
        perm = sorted(range(len(ids)), key=lambda t: ids[t])
        present = sorted(set(ids))
        z = b["slots"] + 1
        if b["options"]["specialize"]:
            p = 1
            while p < len(present):
                p *= 2
            z = min(p, z)
        if not any(i >= 0 for i in present):
            z, present = 0, []
        lens = [ids.count(i) for i in present] + [0] * max(0, z - len(present))
        lora_ids = present + [-1] * max(0, z - len(present))
        return dict(seg_lens=lens, seg_indptr=prefix(lens), weight_indices=lora_ids, permutation=perm,
                    max_len=len(ids), token_lora_mapping=ids)
    raise ValueError("unknown strategy " + name)


def routing_diff(mine, planned):
    for k in ["seg_lens", "seg_indptr", "weight_indices", "permutation", "max_len"]:
        a, p = mine.get(k), planned.get(k)
        if a != p:
            return "%s: rebuilt %s, lora-viz planned %s" % (k, str(a)[:120], str(p)[:120])
    return None


# ---- comparing outputs in ulps ---------------------------------------------------------------------

def ordered_bits(t, torch, dtype):
    """The dtype's bit patterns as integers ordered like the values (ulp distance = difference)."""
    if dtype == torch.float32:
        i = t.to(torch.float32).contiguous().view(torch.int32).to(torch.int64)
        return torch.where(i < 0, -(i & 0x7FFFFFFF), i)
    i = t.to(dtype).contiguous().view(torch.int16).to(torch.int64)
    return torch.where(i < 0, -(i & 0x7FFF), i)


def compare(gpu, cpu, mask, torch, dtype, base=None):
    """Max ulp distance and count of differing cells among the masked cells.

    For an expand (`base` given) also the largest difference in ulps of the
    LoRA term `out - base`: the kernels round the scaled term to the dtype,
    then add the base and round again, so a term one ulp off from a different
    fp32 summation order is two or more ulps of an output the base cancels."""
    g, c = gpu.float().cpu(), cpu.float().cpu()
    mask = mask & ~torch.isnan(c)
    if int(mask.sum()) == 0:
        return dict(cells=0, differing=0, max_ulp=0, max_abs_diff=0.0)
    bad = mask & ~torch.isfinite(g)
    ulp = (ordered_bits(g, torch, dtype) - ordered_bits(c, torch, dtype)).abs()
    ulp = torch.where(mask, ulp, torch.zeros_like(ulp))
    diff = torch.where(mask, (g - c).abs(), torch.zeros_like(g))
    out = dict(cells=int(mask.sum()), differing=int((ulp > 0).sum()), max_ulp=int(ulp.max()) if not bool(bad.any()) else -1,
               max_abs_diff=float(diff.max()))
    if base is not None and not bool(bad.any()):
        term = (c - base.float().cpu()).abs()
        # One ulp of the dtype at the term's magnitude: 2^(exponent - mantissa bits).
        bits = {torch.float32: 23, torch.float16: 10, torch.bfloat16: 7}[dtype]
        unit = torch.pow(2.0, torch.floor(torch.log2(term.clamp(min=1e-30))) - bits)
        term_ulp = torch.where(mask, diff / unit, torch.zeros_like(diff))
        out["max_ulp_of_lora_term"] = float(term_ulp.max())
    return out


def verdict(c):
    if c["differing"] == 0:
        return "bit-identical"
    if 0 <= c["max_ulp"] <= 1:
        return "within 1 ulp"
    if c.get("max_ulp_of_lora_term", 99) <= 1:
        return "within 1 ulp of the LoRA term (%d ulp of the output after the base add)" % c["max_ulp"]
    return "differ by up to %d ulp" % c["max_ulp"]


def inputs(case, b, torch, dev, dtype):
    """The dumped x, weights and base; seeded random ones of batch.json's shapes
    when the folder has none (a --sweep export: timing only, values do not change it)."""
    import numpy as np
    if os.path.exists(os.path.join(case, "x.npy")):
        t = {k: torch.from_numpy(np.load(os.path.join(case, f))).to(dev) for k, f in
             [("x", "x.npy"), ("w", "weights.npy"), ("base", "base_output.npy")]}
        return {k: v.to(dtype) for k, v in t.items()}, True
    g = torch.Generator(device="cpu").manual_seed(b["seed"])
    sh = b["shapes"]
    x = torch.rand(sh["x"], generator=g) * 2 - 1
    w = (torch.rand(sh["weights"], generator=g) * 2 - 1) / math.sqrt(max(1, sh["weights"][2]))
    ranks = b["ranks"]
    for s, r in enumerate(ranks):  # rows (shrink) or columns (expand) beyond the slot's rank are 0
        if b["kernel"] == "sgemm_lora_a":
            w[s, b["stack"] * r:] = 0
        else:
            w[s, :, r:] = 0
    base = torch.rand(sh["base"], generator=g) * 2 - 1
    return {"x": x.to(dev, dtype), "w": w.to(dev, dtype), "base": base.to(dev, dtype)}, False


def cases_of(given):
    """The folders to run: those given, else this one when it holds batch.json, else its subfolders that do."""
    if given:
        return [os.path.abspath(c) for c in given]
    if os.path.exists(os.path.join(HERE, "batch.json")):
        return [HERE]
    subs = sorted(os.path.join(HERE, d) for d in os.listdir(HERE) if os.path.exists(os.path.join(HERE, d, "batch.json")))
    if not subs:
        sys.exit("no batch.json here nor in a subfolder: is this a lora-viz gpu-bench folder?")
    return subs


def time_graph(fn, torch, replays):
    """Mean, median and min per call of a CUDA graph of CALLS calls, over `replays` replays."""
    fn()
    torch.cuda.synchronize()
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        fn()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(CALLS):
            fn()
    g.replay()
    torch.cuda.synchronize()
    each = []
    for _ in range(replays):
        a, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        g.replay()
        e.record()
        torch.cuda.synchronize()
        each.append(a.elapsed_time(e) * 1000 / CALLS)
    each.sort()
    return dict(mean_us=sum(each) / len(each), median_us=each[len(each) // 2], min_us=each[0], replays=replays)


# ---- one strategy ---------------------------------------------------------------------------------

def launch(name, b, t, kern, torch, dev):
    """A zero-argument function launching the strategy's kernel once, and a function reading its output."""
    kernel, dims, slots = b["kernel"], b["dims"], b["slots"]
    x, w, base = t["x"], t["w"], t["base"]
    ranks = torch.tensor(b["ranks"], dtype=torch.int32, device=dev)
    scalings = torch.tensor(b["scalings"], dtype=torch.float32, device=dev)
    i32 = dict(dtype=torch.int32, device=dev)
    offsets = b["output_column_offsets"]
    widths = [offsets[i + 1] - offsets[i] for i in range(len(offsets) - 1)]
    r = rebuild_routing(name, b)
    if name in ("per-sequence", "sorted", "tight"):
        Info, m = kern["sglang"][0], kern["sglang"][1]
        info = Info(bs=len(r["seg_lens"]), max_len=r["max_len"], seg_lens=torch.tensor(r["seg_lens"], **i32),
                    seg_indptr=torch.tensor(r["seg_indptr"], **i32), weight_indices=torch.tensor(r["weight_indices"], **i32),
                    lora_ranks=ranks, scalings=scalings,
                    permutation=None if r["permutation"] is None else torch.tensor(r["permutation"], **i32))
        if kernel == "sgemm_lora_a":
            box = {}

            def fn():
                box["out"] = m["sgemm_lora_a"].sgemm_lora_a_fwd(x, w, info, stack_num=b["stack"])
            return fn, lambda: box["out"]
        work = base.clone()
        if kernel == "sgemm_lora_b":
            fn = lambda: m["sgemm_lora_b"].sgemm_lora_b_fwd(x, w, info, base_output=work)
        elif kernel == "qkv_lora_b":
            offs = torch.tensor(offsets, **i32)
            fn = lambda: m["qkv_lora_b"].qkv_lora_b_fwd(x, w, info, offs, max(widths), base_output=work)
        else:
            fn = lambda: m["gate_up_lora_b"].gate_up_lora_b_fwd(x, w, info, widths[0], base_output=work)
        return fn, lambda: work
    if name in ("csgmv", "csgmv-graph"):
        Info, m = kern["sglang"][0], kern["sglang"][1]
        info = Info(bs=len(b["sequence_slots"]), num_segments=sum(1 for n in r["seg_lens"] if n > 0) if name == "csgmv-graph" else len(r["seg_lens"]),
                    max_len=r["max_len"], seg_indptr=torch.tensor(r["seg_indptr"], **i32),
                    weight_indices=torch.tensor(r["weight_indices"], **i32), lora_ranks=ranks, scalings=scalings,
                    permutation=torch.tensor(r["permutation"], **i32), use_cuda_graph=name == "csgmv-graph")
        if kernel == "sgemm_lora_a":
            box = {}

            def fn():
                box["out"] = m["chunked_sgmv_shrink"].chunked_sgmv_lora_shrink_forward(x, w, info, b["stack"])
            return fn, lambda: box["out"]
        work = base.clone()
        offs = torch.tensor(offsets, **i32)
        offs_cpu = torch.tensor(offsets)
        fn = lambda: m["chunked_sgmv_expand"].chunked_sgmv_lora_expand_forward(
            x, w, info, offs, max(widths), work, slice_offsets_cpu=offs_cpu)
        return fn, lambda: work
    # vllm: its own layouts, built from the same values (docs/strategies.md §vllm)
    shrink, expand, vutils = kern["vllm"]
    vutils._LORA_A_PTR_DICT.clear()
    vutils._LORA_B_PTR_DICT.clear()
    R = dims["max_rank"]
    ts = token_slots(b)
    S = len(ts)
    ids = r["token_lora_mapping"]
    meta = dict(token_lora_mapping=torch.tensor(ids, **i32),
                token_indices_sorted_by_lora_ids=torch.tensor(r["permutation"], **i32),
                num_tokens_per_lora=torch.tensor(r["seg_lens"], **i32),
                lora_token_start_loc=torch.tensor(r["seg_indptr"], **i32),
                lora_ids=torch.tensor(r["weight_indices"], **i32),
                no_lora_flag_cpu=torch.tensor([all(i == -1 for i in ids)], dtype=torch.bool),
                num_active_loras=torch.tensor([len(r["seg_lens"])], dtype=torch.int32))
    args = [meta[k] for k in ["token_lora_mapping", "token_indices_sorted_by_lora_ids", "num_tokens_per_lora",
                              "lora_token_start_loc", "lora_ids", "no_lora_flag_cpu", "num_active_loras"]]
    rk = b["ranks"]
    if kernel == "sgemm_lora_a":
        stack = b["stack"]
        wv = []
        for q in range(stack):  # one (slots, R, K) weight per slice, rank rows zero-padded
            tq = torch.zeros(slots, R, w.shape[2], device=dev, dtype=w.dtype)
            for s in range(slots):
                tq[s, :rk[s]] = w[s, q * rk[s]:(q + 1) * rk[s]]
            wv.append(tq.contiguous())
        buf = torch.empty(stack, S, R, device=dev, dtype=torch.float32)
        fn = lambda: shrink(x, wv, buf, *args, 1.0)

        def read():  # back to lora-viz's packed layout, rounded to the dtype (lora-viz's shrink output)
            out = torch.full((S, stack * R), float("nan"), device=dev)
            for tok, s in enumerate(ts):
                for q in range(stack):
                    out[tok, q * rk[s]:(q + 1) * rk[s]] = buf[q, tok, :rk[s]]
            return out.to(x.dtype)
        return fn, read
    slices = len(widths)
    xin = torch.zeros(slices, S, R, device=dev, dtype=torch.float32)  # vLLM's scaled fp32 shrink output
    for tok, s in enumerate(ts):
        for q in range(slices if rk[s] > 0 else 0):
            xin[q, tok, :rk[s]] = x[tok, q * rk[s]:(q + 1) * rk[s]].float() * b["scalings"][s]
    wv = []
    for q in range(slices):
        tq = torch.zeros(slots, widths[q], R, device=dev, dtype=w.dtype)
        for s in range(slots):
            tq[s, :, :rk[s]] = w[s, offsets[q]:offsets[q + 1], :rk[s]]
        wv.append(tq.contiguous())
    work = base.clone()
    fn = lambda: expand(xin, wv, work, *args, offset_start=0, add_inputs=True)
    return fn, lambda: work


def main():
    ap = argparse.ArgumentParser(description="Run a lora-viz batch on the real kernels (see the docstring).")
    ap.add_argument("--sglang", help="sglang wheel, or a folder holding sglang/kernels/ops/lora/dense (default: the installed sglang)")
    ap.add_argument("--vllm-ops", help="folder of vLLM's lora/ops/triton_ops files (default: the installed vllm; '-' skips vLLM)")
    ap.add_argument("--out", help="the results file (default: gpu-results.json in each case's folder)")
    ap.add_argument("--cases", nargs="*", help="exported folders to run in this one process (default: this folder, "
                    "or every subfolder holding a batch.json: a --sweep export)")
    ap.add_argument("--replays", type=int, default=10)
    ap.add_argument("--strategies", help="comma-separated subset of batch.json's strategies")
    ap.add_argument("--self-check", action="store_true",
                    help="CPU under TRITON_INTERPRET=1: routings and outputs only, no timing (fp16/fp32 batches)")
    a = ap.parse_args()
    if a.self_check:
        os.environ["TRITON_INTERPRET"] = "1"
    import numpy as np
    import torch
    import triton
    cases = cases_of(a.cases)
    if a.out and len(cases) > 1:
        sys.exit("--out names one file, but there are %d cases: each writes gpu-results.json in its folder" % len(cases))
    batches = [json.load(open(os.path.join(c, "batch.json"))) for c in cases]
    if a.self_check:
        dev = torch.device("cpu")
        if any(b["dtype"] == "bf16" for b in batches):
            sys.exit("--self-check: this batch is bf16, whose tl.dot Triton's interpreter gets wrong; export an fp16 or fp32 batch")
    else:
        if not torch.cuda.is_available():
            sys.exit("no CUDA device (use --self-check for the CPU mode)")
        dev = torch.device("cuda")
    root = tempfile.mkdtemp(prefix="lora_viz_kernels_")
    kern = {}
    wanted = set(a.strategies.split(",")) if a.strategies else None
    all_names = {s["name"] for b in batches for s in b["strategies"]}
    Info, mods, sglang_from = load_sglang(find_sglang(a.sglang), root, torch)
    kern["sglang"] = (Info, mods)
    print("SGLang kernels from %s (loaded by path, stand-in imports)" % sglang_from, flush=True)
    vllm_from = None
    if "vllm" in all_names and (wanted is None or "vllm" in wanted):
        ops, why = find_vllm_ops(a.vllm_ops)
        if ops:
            try:
                kern["vllm"] = load_vllm(ops, root, torch, dev)
                vllm_from = os.path.abspath(ops)
                print("vLLM kernels from %s (loaded by path, stand-in imports)" % vllm_from, flush=True)
            except Exception as e:
                why = "vLLM's op files did not load: %r" % (e,)
        if "vllm" not in kern:
            print("skipping vllm: %s" % why, flush=True)
    if a.self_check:
        print("self-check: Triton interpreter on the CPU; routings and outputs are checked, nothing is timed", flush=True)
    else:
        print("method: " + METHOD.replace(" N ", " %d " % a.replays), flush=True)
    p = torch.cuda.get_device_properties(dev) if dev.type == "cuda" else None
    failed = []
    for case, b in zip(cases, batches):
        if len(cases) > 1:
            print("== " + os.path.relpath(case, HERE), flush=True)
        failed += run_case(case, b, a, kern, torch, triton, dev, p, sglang_from, vllm_from, wanted)
    sys.exit(1 if failed else 0)


def run_case(case, b, a, kern, torch, triton, dev, p, sglang_from, vllm_from, wanted):
    """Runs every strategy of one exported folder; writes its results file. Returns the strategies that failed."""
    import numpy as np
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[b["dtype"]]
    names = [s["name"] for s in b["strategies"] if wanted is None or s["name"] in wanted]
    t, dumped = inputs(case, b, torch, dev, dtype)
    if not dumped:
        print("timing only: no lora-viz outputs in this folder (a --sweep export); inputs are seeded random values of its shapes", flush=True)
    results = []
    for s in b["strategies"]:
        name = s["name"]
        if name not in names:
            continue
        rec = {"strategy": name}
        if name == "vllm" and "vllm" not in kern:
            rec["skipped"] = "vLLM kernels not loaded"
            results.append(rec)
            continue
        diff = routing_diff(rebuild_routing(name, b), s["routing"])
        rec["routing_equal"] = diff is None
        if diff:
            rec["routing_difference"] = diff
        try:
            fn, read = launch(name, b, t, kern, torch, dev)
            fn()
            if dev.type == "cuda":
                torch.cuda.synchronize()
            if dumped and s.get("cpu_output"):
                cpu = torch.from_numpy(np.load(os.path.join(case, s["cpu_output"])))
                out = read()
                mask = torch.ones(cpu.shape, dtype=torch.bool)
                rec["comparison"] = compare(out, cpu, mask, torch, dtype, None if b["kernel"] == "sgemm_lora_a" else t["base"])
                rec["outputs"] = verdict(rec["comparison"])
            else:
                rec["outputs"] = "not checked (timing only)"
            if dev.type == "cuda":
                rec.update(time_graph(fn, torch, a.replays))
                rec["measured_us"] = rec["mean_us"]
        except Exception as e:
            rec["error"] = repr(e)[:400]
        results.append(rec)
        line = "%-13s routing %s  outputs %s" % (name, "equal" if rec.get("routing_equal") else "DIFFERS (%s)" % rec.get("routing_difference"),
                                                 rec.get("outputs", "-"))
        if "measured_us" in rec:
            line += "  %.2f us/call (median %.2f, min %.2f)" % (rec["measured_us"], rec["median_us"], rec["min_us"])
        if "error" in rec:
            line += "  ERROR " + rec["error"]
        print(line, flush=True)
    doc = {"schema": SCHEMA, "generator": "lora_viz_gpu_bench.py (written by lora-viz gpu-bench)",
           "mode": "self-check (Triton interpreter, CPU, untimed)" if a.self_check else "gpu",
           "gpu": p.name if p else None, "sms": p.multi_processor_count if p else None,
           "capability": list(torch.cuda.get_device_capability(dev)) if p else None,
           "torch": torch.__version__, "triton": triton.__version__, "cuda": torch.version.cuda,
           "sglang": sglang_from, "vllm": vllm_from,
           "method": None if a.self_check else METHOD.replace(" N ", " %d " % a.replays), "calls_per_graph": CALLS,
           "replays": None if a.self_check else a.replays,
           "fingerprint": b["fingerprint"], "strategies": results}
    out = a.out or os.path.join(case, "gpu-results.json")
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote " + out, flush=True)
    return [r["strategy"] for r in results if r.get("error") or r.get("routing_equal") is False]


if __name__ == "__main__":
    main()
"""#
}
