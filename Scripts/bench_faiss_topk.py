#!/usr/bin/env python3
"""Peer benchmark: exact top-k inner-product search, faiss-cpu IndexFlatIP vs RecAlign's TopK.

For each item count it draws random unit vectors (numpy, seeded), times faiss (2 threads,
distance_compute_blas_threshold = 20) on query batches, writes the data and faiss's ids to a temp
folder, runs the Swift benchmark binary (Benchmarks/TopKBench, release) on the same data, and prints
one Markdown table with both queries/s, the ratio RecAlign / faiss and the top-k agreement.
faiss is timed in the stated configuration (2 OpenMP threads, blas threshold 20, its default
database block) and in a small sweep of threads x database block; the best faiss figure is shown too.

Usage: python3 Scripts/bench_faiss_topk.py [--sizes 100000,1000000] [--dim 384] [--k 10]
       [--batch 256] [--batches 4] [--threads 2] [--block 2048] [--repeats 1] [--no-build]
Needs: pip install faiss-cpu numpy.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np


def unit_rows(rng, n, dim, chunk=100_000):
    out = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, chunk):
        x = rng.standard_normal((min(chunk, n - s), dim), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[s:s + len(x)] = x
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--block", type=int, default=2048, help="RecAlign items per GEMM call")
    ap.add_argument("--repeats", type=int, default=1, help="rounds; the best q/s of each side is kept")
    ap.add_argument("--no-build", action="store_true", help="do not run swift build first")
    args = ap.parse_args()

    import faiss  # imported here so --help works without it

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.path.join(root, ".build", "release", "TopKBench")
    if not args.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "TopKBench"], cwd=root, check=True,
                       stdout=subprocess.DEVNULL)
    if not os.path.exists(binary):
        sys.exit(f"missing {binary}: build with `swift build -c release --product TopKBench`")

    faiss.cvar.distance_compute_blas_threshold = 20
    # The configuration the comparison is stated against (threads, blas threshold 20, faiss's default
    # database block 1024), then a small sweep; the best faiss figure is reported beside it.
    configs = [(args.threads, 1024)] + [(t, bs) for t in sorted({1, args.threads}) for bs in (1024, 16384)
                                        if (t, bs) != (args.threads, 1024)]
    nq = args.batch * args.batches
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        rng = np.random.default_rng(42)
        xb = unit_rows(rng, n, args.dim)
        xq = unit_rows(rng, nq, args.dim)
        index = faiss.IndexFlatIP(args.dim)
        index.add(xb)
        tmp = tempfile.mkdtemp(prefix="topkbench-")
        try:
            xb.tofile(os.path.join(tmp, "items.f32"))
            xq.tofile(os.path.join(tmp, "queries.f32"))
            del xb
            faiss_qps, ra_qps, ids = {}, 0.0, None
            for rep in range(args.repeats):
                for t, bs in configs:
                    faiss.omp_set_num_threads(t)
                    faiss.cvar.distance_compute_blas_database_bs = bs
                    index.search(xq[:args.batch], args.k)  # warm-up, as the Swift side does
                    got = []
                    t0 = time.perf_counter()
                    for b in range(args.batches):
                        got.append(index.search(xq[b * args.batch:(b + 1) * args.batch], args.k)[1])
                    faiss_qps[(t, bs)] = max(faiss_qps.get((t, bs), 0.0), nq / (time.perf_counter() - t0))
                    if ids is None:
                        ids = np.concatenate(got).astype(np.int64)
                        ids.tofile(os.path.join(tmp, "faiss_ids.i64"))
                out = subprocess.run([binary, "--items", str(n), "--dim", str(args.dim), "--k", str(args.k),
                                      "--batch", str(args.batch), "--batches", str(args.batches),
                                      "--threads", str(args.threads), "--block", str(args.block), "--data", tmp],
                                     check=True, capture_output=True, text=True).stdout
                m = re.search(r"RESULT items=\d+ seconds=([\d.]+) qps=([\d.]+) agreement=([-\d.]+)", out)
                if not m:
                    sys.exit(f"unexpected TopKBench output:\n{out}")
                ra_qps, agree = max(ra_qps, float(m.group(2))), float(m.group(3))
                print(f"{n} items, round {rep + 1}: faiss " +
                      ", ".join(f"{t}thr/bs{bs} {q:.1f}" for (t, bs), q in faiss_qps.items()) +
                      f" q/s; RecAlign {ra_qps:.1f} q/s", file=sys.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        del index
        spec = faiss_qps[configs[0]]
        best_cfg = max(faiss_qps, key=faiss_qps.get)
        rows.append((n, spec, faiss_qps[best_cfg], best_cfg, ra_qps, agree))

    print(f"\nTop-{args.k}, dim {args.dim}, {args.batches} batches of {args.batch} queries, best of {args.repeats} "
          f"round(s). faiss {faiss.__version__} IndexFlatIP, blas threshold 20; stated config = "
          f"{args.threads} OpenMP threads, database block 1024; best = best of the sweep "
          f"(threads, database block). RecAlign TopK: {args.threads} workers, block {args.block}.\n")
    print("| items | faiss stated q/s | faiss best q/s (thr, block) | RecAlign q/s | vs stated | vs best | top-k agreement |")
    print("| ----: | ---------------: | --------------------------: | -----------: | --------: | ------: | --------------: |")
    for n, spec, best, cfg, r, a in rows:
        print(f"| {n:,} | {spec:.1f} | {best:.1f} ({cfg[0]}, {cfg[1]}) | {r:.1f} | {r / spec:.2f}x | {r / best:.2f}x "
              f"| {a:.4f} |")


if __name__ == "__main__":
    main()
