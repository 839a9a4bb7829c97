#!/usr/bin/env python3
"""Records where and when every program of a launch ran: the SM, start, end.

Runs on the lent GPU machine (not in CI), to learn how the H200 places a
LoRA launch's programs (gpu/RESULTS.md, "Where the programs ran"). The four
SGLang kernel files are loaded from the wheel as gpu/measure_sglang.py does,
then a second, instrumented copy is built from their text: each kernel takes
one more pointer and, on entry and at every `return` (and at its end), reads
`%smid`, `%globaltimer` (ns, shared by all SMs) and `%clock64` (the SM's own
cycles), and stores them at its linear program id. Nothing else in the
kernels changes.

For each case and routing (per-sequence, sorted) it times the plain kernel
and the instrumented one (CUDA graph of 20 calls, mean of 10 replays) and
keeps the trace of the last call of the instrumented graph (L2 warm, one
launch after another, as in the timing).

    python3 gpu/probe_schedule.py WHEEL CASES OUT.jsonl OUT.npz

OUT.jsonl: one line per case (both timings of each routing); OUT.npz: per
launch `<id>_<routing>_{sm,t0,dt,dclk}` (SM index; start relative to the
launch's first start, ns; duration, ns; duration, SM cycles).
"""
import json
import os
import re
import sys
import time
import types

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure_sglang as m  # noqa: E402

KERNELS = ["sgemm_lora_a", "sgemm_lora_b", "qkv_lora_b", "gate_up_lora_b"]

HELPERS = '''
@triton.jit
def _tr_smid():
    return tl.inline_asm_elementwise("mov.u32 $0, %smid;", "=r", [], dtype=tl.int32, is_pure=False, pack=1)


@triton.jit
def _tr_gtime():
    return tl.inline_asm_elementwise("mov.u64 $0, %globaltimer;", "=l", [], dtype=tl.int64, is_pure=False, pack=1)


@triton.jit
def _tr_clock():
    return tl.inline_asm_elementwise("mov.u64 $0, %clock64;", "=l", [], dtype=tl.int64, is_pure=False, pack=1)


TRACE = [None]
'''

ENTRY = [
    "_tr_g0 = _tr_gtime()",
    "_tr_c0 = _tr_clock()",
    "_tr_sm = _tr_smid().to(tl.int64)",
    "_tr_pid = (tl.program_id(0) + tl.program_id(1) * tl.num_programs(0)"
    " + tl.program_id(2) * tl.num_programs(0) * tl.num_programs(1)).to(tl.int64)",
]
EXIT = [
    "_tr_g1 = _tr_gtime()",
    "_tr_c1 = _tr_clock()",
    "_tr_o = tl.arange(0, 8)",
    "_tr_v = tl.where(_tr_o == 0, _tr_sm, tl.where(_tr_o == 1, _tr_g0, tl.where(_tr_o == 2, _tr_g1,"
    " tl.where(_tr_o == 3, _tr_c0, _tr_c1))))",
    "tl.store(_trace + _tr_pid * 8 + _tr_o, _tr_v, mask=_tr_o < 5)",
]


def instrument(src, name):
    """The kernel file's text with the trace added to `_<name>_kernel`."""
    lines = src.split("\n")
    d = next(i for i, l in enumerate(lines) if l.startswith(f"def _{name}_kernel("))
    lines.insert(d + 1, "    _trace,")
    sig_end = next(i for i in range(d, len(lines)) if lines[i].startswith("):"))
    body = sig_end + 1
    if lines[body].strip().startswith('"""'):
        body = next(i for i in range(body + 1, len(lines)) if lines[i].strip().endswith('"""')) + 1
    end = next(i for i in range(body, len(lines)) if lines[i].startswith("def ") or lines[i].startswith("@"))
    while not lines[end - 1].strip():
        end -= 1
    out = lines[:body] + ["    " + s for s in ENTRY]
    for l in lines[body:end]:
        if l.strip() == "return":
            pad = l[: len(l) - len(l.lstrip())]
            out += [pad + s for s in EXIT]
        out.append(l)
    out += ["    " + s for s in EXIT] + lines[end:]
    text = "\n".join(out)
    text, n = re.subn(rf"(_{name}_kernel\[[^\]]+\]\()", r"\1TRACE[0], ", text)
    assert n == 1, f"{name}: {n} launches found"
    return text.replace("\n@triton.jit", HELPERS + "\n@triton.jit", 1)


def load_instrumented(mods):
    out = {}
    for k in KERNELS:
        src = open(mods[k].__file__).read()
        mod = types.ModuleType(f"traced_{k}")
        mod.__file__ = f"/tmp/traced_{k}.py"
        with open(mod.__file__, "w") as f:
            f.write(instrument(src, k))
        sys.modules[mod.__name__] = mod
        exec(compile(open(mod.__file__).read(), mod.__file__, "exec"), mod.__dict__)
        out[k] = mod
    return out


def main():
    wheel, cases, out, npz = sys.argv[1:5]
    Info, mods = m.load_kernels(wheel)
    traced = load_instrumented(mods)
    dev = torch.device("cuda")
    p = torch.cuda.get_device_properties(dev)
    arrays = {}
    start = time.time()
    with open(out, "w") as o:
        o.write(json.dumps({"type": "meta", "gpu": p.name, "sms": p.multi_processor_count,
                            "torch": torch.__version__, "triton": __import__("triton").__version__,
                            "wheel": os.path.basename(wheel), "cases": os.path.basename(cases),
                            "method": "CUDA graph of 20 calls, mean of 10 replays; trace of the graph's last call"}) + "\n")
        for line in open(cases):
            c = json.loads(line)
            rec = m.run_case(c, mods, Info, dev, routings=[("per-sequence", "perseq"), ("sorted", "sorted")])
            for kind, tag in [("per-sequence", "perseq"), ("sorted", "sorted")]:
                L = rec["L_" + tag]
                # Twice the grid lib's count, so a miscount cannot write past the buffer.
                buf = torch.zeros(2 * L * 8, dtype=torch.int64, device=dev)
                for t in traced.values():
                    t.TRACE[0] = buf
                # Tagged perseq so run_case compares no outputs of this one launch.
                r = m.run_case(c, traced, Info, dev, routings=[(kind, "perseq")])
                rec["g20_traced_" + tag] = r["g20_perseq"]
                full = buf.view(2 * L, 8)[:, :5].cpu().numpy()
                assert not full[L:].any(), f"case {c['id']} {tag}: programs past the counted grid"
                tr = full[:L]
                ran = tr[:, 1] > 0
                rec["traced_programs_" + tag] = int(ran.sum())
                t0 = tr[:, 1] - tr[ran, 1].min()
                arrays[f"{c['id']}_{tag}_sm"] = tr[:, 0].astype(np.int16)
                arrays[f"{c['id']}_{tag}_t0"] = t0.astype(np.int32)
                arrays[f"{c['id']}_{tag}_dt"] = (tr[:, 2] - tr[:, 1]).astype(np.int32)
                arrays[f"{c['id']}_{tag}_dclk"] = (tr[:, 4] - tr[:, 3]).astype(np.int32)
                rec["span_ns_" + tag] = int((tr[ran, 2].max() - tr[ran, 1].min()))
            o.write(json.dumps(rec, separators=(",", ":")) + "\n")
            o.flush()
            print(c["id"], c["kernel"], c["mode"], " ".join(
                f"{t}={rec['g20_' + t]:.1f}/{rec['g20_traced_' + t]:.1f}us span {rec['span_ns_' + t] / 1000:.1f}us"
                for t in ("perseq", "sorted")), flush=True)
            torch.cuda.empty_cache()
    np.savez_compressed(npz, **arrays)
    print(f"probed {cases} in {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
