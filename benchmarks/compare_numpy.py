#!/usr/bin/env python3
"""lora-viz's SIMD kernels against OpenBLAS (through numpy) and PyTorch on the same dense shapes.

For every anchor shape the benchmark runs, `lora-viz bench --format json` lists
the dense GEMMs its sorted launch amounts to (one (m, k, n) per used adapter
segment and slice: m token rows, k the reduction, n the output columns). This
script times numpy doing exactly those GEMMs in fp32 in the same run, one
thread and two, and prints lora-viz GFLOP/s, numpy GFLOP/s and their ratio per
shape. Two numpy figures: the bare GEMM `x @ W.T` into a preallocated output
(the BLAS gets the easier job: lora-viz's expands also read the base output
and add to it), and, for the expands, the same work as lora-viz
(`out += scaling * (x @ W.T)`, one temporary). Ratios use the bare GEMM.
For the expands it also prints the output's read + write traffic in GB/s next
to a memory roof measured the same way (numpy's in-place `a *= s` on a 29 MB
fp32 array, the size of gate_up's bs-256 output).

Where the Python running the script has PyTorch (CPU), the same child also
times `torch.matmul(x, w.T, out=y)` on the same shapes in fp32 and in bf16
(oneDNN; it may use AVX512_BF16 or AMX where the CPU has them), with
`torch.set_num_threads(threads)`: run the script with that Python, e.g. a venv
holding torch and numpy (`/tmp/tv/bin/python benchmarks/compare_numpy.py`).

numpy runs in a child process with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset
(this machine sets them for old OpenBLAS builds; they force a slower kernel on a
current numpy) and OPENBLAS_NUM_THREADS set to the thread count; the child
reports the OpenBLAS core type it runs (threadpoolctl, when installed).

Usage (from the package root, after `swift build -c release`):
    python3 benchmarks/compare_numpy.py [--threads 1 2] [--quick] [--dtype fp32 bf16] [--reps 7]
        [--binary .build/release/lora-viz] [--json]
Other lora-viz bench filters (--kernel, --bs, --adapters, --rank) pass through.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def numpy_worker():
    """Child: read {"gemms": [[m, k, n], ...] per shape, "reps"} on stdin, print medians."""
    import numpy as np

    request = json.load(sys.stdin)
    info = {}
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if blas:
            info = {"blas": blas[0].get("internal_api"), "version": blas[0].get("version"),
                    "architecture": blas[0].get("architecture"), "threads": blas[0].get("num_threads")}
    except ImportError:
        info = {"note": "threadpoolctl not installed; core type not reported"}
    rng = np.random.default_rng(42)
    out = []
    try:
        import torch

        torch.set_num_threads(request["threads"])
        info["torch"] = f"{torch.__version__}, {torch.get_num_threads()} threads, " + (
            torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else "")
    except ImportError:
        torch = None

    def timed(launch):
        launch()  # warm-up
        samples = []
        for _ in range(request["reps"]):
            t0 = time.perf_counter()
            launch()
            samples.append((time.perf_counter() - t0) * 1e3)
        return samples

    for gemms, expand in zip(request["shapes"], request["expand"]):
        operands = []
        for m, k, n in gemms:
            x = rng.uniform(-1, 1, size=(m, k)).astype(np.float32)
            w = rng.uniform(-1, 1, size=(n, k)).astype(np.float32)  # canonical (N, K) as the kernels' W
            y = rng.uniform(-1, 1, size=(m, n)).astype(np.float32)
            t = np.empty((m, n), dtype=np.float32)
            operands.append((x, w, y, t))

        def gemm():
            for x, w, y, _ in operands:
                np.matmul(x, w.T, out=y)

        def same_work():
            for x, w, y, t in operands:
                np.matmul(x, w.T, out=t)
                t *= np.float32(2)
                y += t

        samples = timed(gemm)
        entry = {"median_ms": statistics.median(samples), "min_ms": min(samples), "max_ms": max(samples)}
        if torch is not None:
            for dtype, name in ((torch.float32, "torch_fp32_median_ms"), (torch.bfloat16, "torch_bf16_median_ms")):
                tops = [(torch.from_numpy(x).to(dtype), torch.from_numpy(w).to(dtype), torch.from_numpy(y).to(dtype))
                        for x, w, y, _ in operands]

                def torch_gemm(tops=tops):
                    for x, w, y in tops:
                        torch.matmul(x, w.T, out=y)

                entry[name] = statistics.median(timed(torch_gemm))
        if expand:
            entry["same_work_median_ms"] = statistics.median(timed(same_work))
        out.append(entry)
    # The memory roof of the expands, measured the same way: numpy's in-place
    # `a *= s` reads and writes a gate_up-sized fp32 output (bs 256 × 2·14336,
    # 29 MB) once each, one thread (numpy's elementwise loops do not thread).
    a = rng.uniform(-1, 1, size=(256, 2 * 14336)).astype(np.float32)
    rmw = statistics.median(timed(lambda: np.multiply(a, np.float32(1.0001), out=a)))
    info["memory_rmw_gbs"] = round(2 * a.nbytes / (rmw * 1e6), 1)
    json.dump({"info": info, "results": out}, sys.stdout)


def run_numpy(shapes, expand, threads, reps):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--numpy-worker"],
                          input=json.dumps({"shapes": shapes, "expand": expand, "reps": reps, "threads": threads}),
                          capture_output=True,
                          text=True, env=env, check=True)
    return json.loads(proc.stdout)


def main():
    if "--numpy-worker" in sys.argv:
        numpy_worker()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=".build/release/lora-viz")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dtype", nargs="+", default=["fp32"], help="lora-viz dtypes (numpy always runs fp32)")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args, passthrough = parser.parse_known_args()
    if not os.path.exists(args.binary):
        sys.exit(f"error: {args.binary} not found; build it first: swift build -c release")

    report = {"runs": []}
    for threads in args.threads:
        cmd = [args.binary, "bench", "--format", "json", "--threads", str(threads), "--reps", str(args.reps),
               "--no-peak"] + sum((["--dtype", d] for d in args.dtype), []) + (["--quick"] if args.quick else []) + passthrough
        bench = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        shapes = [r["dense_gemms"] for r in bench["results"]]
        expand = [r["kernel"] != "sgemm_lora_a" for r in bench["results"]]
        numpy = run_numpy(shapes, expand, threads, args.reps)
        rows = []
        for r, n in zip(bench["results"], numpy["results"]):
            flops = 2 * sum(m * k * w for m, k, w in r["dense_gemms"])
            torch_gflops = {d: flops / (n[f"torch_{d}_median_ms"] * 1e6) for d in ("fp32", "bf16")
                            if n.get(f"torch_{d}_median_ms")}
            numpy_gflops = flops / (n["median_ms"] * 1e6) if n["median_ms"] > 0 else 0
            same = n.get("same_work_median_ms")
            same_gflops = flops / (same * 1e6) if same else None
            # The expands read and write their whole output: its traffic alone, in GB/s.
            size = {"fp32": 4, "fp16": 2, "bf16": 2}[r["dtype"]]
            out_bytes = 2 * size * sum(m * w for m, k, w in r["dense_gemms"])
            out_gbs = out_bytes / (r["sorted"]["median_ms"] * 1e6) if r["kernel"] != "sgemm_lora_a" else None
            rows.append({
                "kernel": r["kernel"], "dtype": r["dtype"], "bs": r["bs"], "adapters": r["adapters"], "rank": r["rank"],
                "lora_viz_sorted_ms": r["sorted"]["median_ms"], "lora_viz_sorted_gflops": r["sorted"]["gflops"],
                "lora_viz_per_sequence_gflops": r["per_sequence"]["gflops"],
                "numpy_ms": n["median_ms"], "numpy_gflops": numpy_gflops, "numpy_same_work_gflops": same_gflops,
                "ratio": r["sorted"]["gflops"] / numpy_gflops if numpy_gflops else 0,
                "lora_viz_output_gbs": out_gbs,
                "torch_gflops": torch_gflops.get(r["dtype"]) if r["dtype"] in torch_gflops else None,
            })
        report["runs"].append({"threads": threads, "numpy": numpy["info"], "isa": bench["isa"]["summary"], "rows": rows})

    if args.json:
        print(json.dumps(report, indent=2))
        return
    for run in report["runs"]:
        print(f"threads {run['threads']} · lora-viz: {run['isa']} · numpy BLAS: "
              + ", ".join(f"{k} {v}" for k, v in run["numpy"].items()))
        print(f"{'kernel':15}{'dtype':6}{'bs':>5}{'ad':>4}{'r':>4} │ {'lora-viz sorted GF/s':>21} │ "
              f"{'numpy GEMM GF/s':>15} │ {'lora-viz/numpy':>14} │ {'numpy same work':>15} │ {'out r+w GB/s':>12} │ "
              f"{'torch GEMM GF/s (dtype)':>23} │ {'lora-viz/torch':>14}")
        for r in run["rows"]:
            same = r["numpy_same_work_gflops"]
            print(f"{r['kernel']:15}{r['dtype']:6}{r['bs']:>5}{r['adapters']:>4}{r['rank']:>4} │ "
                  f"{r['lora_viz_sorted_gflops']:>21.1f} │ {r['numpy_gflops']:>15.1f} │ {r['ratio']:>13.2f}× │ "
                  + (f"{same:>15.1f}" if same else f"{'–':>15}") + " │ "
                  + (f"{r['lora_viz_output_gbs']:>12.1f}" if r["lora_viz_output_gbs"] else f"{'–':>12}") + " │ "
                  + (f"{r['torch_gflops']:>23.1f} │ {r['lora_viz_sorted_gflops'] / r['torch_gflops']:>13.2f}×"
                     if r["torch_gflops"] else f"{'–':>23} │ {'–':>14}"))
        if "memory_rmw_gbs" in run["numpy"]:
            print(f"memory roof: numpy in-place a *= s on a 29 MB fp32 array, read + write: "
                  f"{run['numpy']['memory_rmw_gbs']} GB/s (compare the expands' out r+w GB/s)")
        ratios = [r["ratio"] for r in run["rows"] if r["ratio"] > 0 and r["dtype"] == "fp32"]
        if ratios:
            print(f"geometric mean lora-viz/numpy (fp32): {statistics.geometric_mean(ratios):.2f}× over {len(ratios)} shapes")
        for dtype in ("fp32", "bf16"):
            t = [r["lora_viz_sorted_gflops"] / r["torch_gflops"] for r in run["rows"] if r["torch_gflops"] and r["dtype"] == dtype]
            if t:
                print(f"geometric mean lora-viz/torch ({dtype}): {statistics.geometric_mean(t):.2f}× over {len(t)} shapes")
        print()


if __name__ == "__main__":
    main()
