#!/usr/bin/env python3
"""Data-parallel speed on one machine, same run: 2 MPI ranks x 1 thread against 1 process x 2 threads.

Encoder steps (TrainBench: both towers, MNRL, backward, AdamW on random ids, the same global batch) for each
method, and the sequential head (`recalign train-head`, steps/s of its training time), interleaved round by
round so that both layouts see the same load. Prints each round and the median ratio (ranks / threads; above
1 means MPI is faster) with the bytes each rank sends per step.

    swift build -c release --product TrainBench && swift build -c release --product recalign
    python3 Scripts/bench_mpi.py --rounds 3
"""
import argparse, json, os, re, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPI = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2"]


def run(cmd, env=None):
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return r


def train_step(method, batch, mpi):
    cmd = [".build/release/TrainBench", "--method", method, "--batch", str(batch), "--steps", "5"]
    out = run((MPI + cmd) if mpi else cmd).stdout.strip().splitlines()[-1]
    return json.loads(out)


def head_steps(mpi, epochs):
    cmd = [".build/release/recalign", "train-head", "--corpus", "corpora/ml-100k", "--head", "seq", "--items", "text+id",
           "--id-dropout", "0.3", "--adaptor", "moe", "--experts", "8", "--adaptor-dim", "128", "--layers", "2",
           "--heads", "2", "--dim", "256", "--max-history", "50", "--dropout", "0.3", "--batch-size", "64",
           "--epochs", str(epochs), "--out", "/tmp/recalign-bench-mpi-head"]
    r = run((MPI + cmd) if mpi else cmd)
    m = re.search(r"training ([\d.]+) s, (\d+) steps, ([\d.]+) steps/s", r.stdout)
    b = re.search(r"allreduced ([\d.]+) MB", r.stderr)
    return {"steps_per_s": float(m.group(3)), "allreduce_mb": float(b.group(1)) if b else 0.0}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--methods", nargs="+", default=["full", "lora", "prompt"])
    ap.add_argument("--head-epochs", type=int, default=2)
    a = ap.parse_args()
    rows = {}
    for r in range(a.rounds):
        for m in a.methods:
            one, two = train_step(m, a.batch, False), train_step(m, a.batch, True)
            rows.setdefault(m, []).append((1 / one["median_seconds_per_step"], 1 / two["median_seconds_per_step"], two))
            print(f"round {r} {m}: 1x2 threads {1 / one['median_seconds_per_step']:.3f} steps/s, 2x1 ranks "
                  f"{1 / two['median_seconds_per_step']:.3f} steps/s", flush=True)
        one, two = head_steps(False, a.head_epochs), head_steps(True, a.head_epochs)
        rows.setdefault("head seq", []).append((one["steps_per_s"], two["steps_per_s"], two))
        print(f"round {r} head seq: 1x2 threads {one['steps_per_s']:.2f} steps/s, 2x1 ranks {two['steps_per_s']:.2f}", flush=True)
    print("\n| method | 1 process x 2 threads (steps/s) | 2 ranks x 1 thread (steps/s) | ratio (median of rounds) | allreduce / rank / step | all-gather / rank / step |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for m, rs in rows.items():
        ratio = statistics.median(b / a_ for a_, b, _ in rs)
        last = rs[-1][2]
        ar = last.get("allreduce_bytes_per_step", last.get("allreduce_mb", 0) * 1e6) / 1e6
        ag = last.get("allgather_bytes_per_step", 0) / 1e6
        print(f"| {m} | {statistics.median(x for x, _, _ in rs):.3f} | {statistics.median(y for _, y, _ in rs):.3f} | "
              f"{ratio:.2f}x | {ar:.3f} MB | {ag:.3f} MB |")


if __name__ == "__main__":
    main()
