#!/usr/bin/env python3
"""Bounds checks on or off: two builds of recalign (-O and -Ounchecked) timed alternately in one run.

Each round runs `bench-encode` (lengths 32 and 128, best of --reps) and `bench-train` (full fine-tuning and a
20-vector soft prompt at user length 32, best of --steps) on both binaries, order swapped every round, and
prints the median of the per-round ratios checked / unchecked (above 1: the checked build is faster).

Build the checked variant in a second worktree whose Package.swift says "-O" instead of "-Ounchecked":
    git worktree add --detach ../wt-checked HEAD && sed -i 's/"-Ounchecked"/"-O"/' ../wt-checked/Package.swift
    (cd ../wt-checked && swift build -c release --product recalign)
    python3 Scripts/bench_bounds_checks.py --unchecked .build/release/recalign --checked ../wt-checked/.build/release/recalign
"""
import argparse, json, statistics, subprocess

def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()
    return json.loads(out[-1])

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unchecked", required=True)
    ap.add_argument("--checked", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", type=int, default=3)
    a = ap.parse_args()
    bins = {"unchecked": a.unchecked, "checked": a.checked}
    series = {}
    for r in range(a.rounds):
        order = ["unchecked", "checked"] if r % 2 == 0 else ["checked", "unchecked"]
        for name in order:
            e = run_json([bins[name], "bench-encode", "--reps", str(a.reps)])
            for length, v in e["sentences_per_s"].items():
                series.setdefault((f"encode sent/s @{length}", name), []).append(v)
            for method in ["full", "prompt"]:
                t = run_json([bins[name], "bench-train", "--method", method, "--steps", str(a.steps)])
                series.setdefault((f"train {method} s/step @32", name), []).append(t["seconds_per_step"])
        print(f"round {r + 1}/{a.rounds} done", flush=True)
    print("| measure | -Ounchecked median | -O median | -O / -Ounchecked speed, paired median [min-max] |")
    print("| --- | ---: | ---: | ---: |")
    for measure in sorted({m for m, _ in series}):
        u, c = series[(measure, "unchecked")], series[(measure, "checked")]
        ratios = [(cv / uv) if "sent/s" in measure else (uv / cv) for uv, cv in zip(u, c)]
        print(f"| {measure} | {statistics.median(u):.3f} | {statistics.median(c):.3f} | "
              f"{statistics.median(ratios):.3f} [{min(ratios):.3f}-{max(ratios):.3f}] |")

if __name__ == "__main__":
    main()
