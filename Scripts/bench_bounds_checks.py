#!/usr/bin/env python3
"""Bounds checks on or off: two builds of RecAlign (-O and -Ounchecked) timed alternately in one run.

Each round runs EncodeBench (lengths 32 and 128, best of --reps) and TrainBench (full fine-tuning and a
20-vector soft prompt at user length 32, best of --steps) on both binaries, order swapped every round, and
prints the median of the per-round ratios checked / unchecked (above 1: the checked build is faster).

Build the checked variant in a second worktree whose Package.swift says "-O" instead of "-Ounchecked":
    git worktree add --detach ../wt-checked HEAD && sed -i 's/"-Ounchecked"/"-O"/' ../wt-checked/Package.swift
    (cd ../wt-checked && swift build -c release --product EncodeBench --product TrainBench)
    python3 Scripts/bench_bounds_checks.py --unchecked .build/release --checked ../wt-checked/.build/release
--unchecked / --checked name a build folder holding EncodeBench and TrainBench, or (a build from before the
benchmarks left the CLI, up to 255c742) its `recalign` binary, whose `bench-encode` / `bench-train` are run.
"""
import argparse, json, os, statistics, subprocess

def bench_cmd(build, job):
    """argv prefix of the encode / train benchmark of a build folder, or of an old `recalign` binary."""
    if os.path.isdir(build):
        return [os.path.join(build, {"encode": "EncodeBench", "train": "TrainBench"}[job])]
    return [build, {"encode": "bench-encode", "train": "bench-train"}[job]]

def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()
    return json.loads(out[-1])

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unchecked", required=True, help="build folder (.build/release) or old recalign binary")
    ap.add_argument("--checked", required=True, help="the same for the -O build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", type=int, default=3)
    a = ap.parse_args()
    bins = {"unchecked": a.unchecked, "checked": a.checked}
    series = {}
    for r in range(a.rounds):
        order = ["unchecked", "checked"] if r % 2 == 0 else ["checked", "unchecked"]
        for name in order:
            e = run_json(bench_cmd(bins[name], "encode") + ["--reps", str(a.reps)])
            for length, v in e["sentences_per_s"].items():
                series.setdefault((f"encode sent/s @{length}", name), []).append(v)
            for method in ["full", "prompt"]:
                t = run_json(bench_cmd(bins[name], "train") + ["--method", method, "--steps", str(a.steps)])
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
