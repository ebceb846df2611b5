#!/usr/bin/env python3
"""Encode throughput with the peers' timed calls interleaved: RecAlign, ONNX Runtime and PyTorch take turns.

bench_encode.py times each peer in its own block of seconds; on this shared machine the load moves by 20-30%
between blocks, which is as large as the differences being measured. Here all three stay loaded side by side
(each in its own process, 2 threads, model loaded and warmed up once), and one call of each runs in turn,
batch after batch, the order rotated every round, with a pause between calls so that no peer's spinning
threads eat into the next one's call. Every round's calls lie within about a second of each other, so each
round gives a paired ratio RecAlign / peer at (nearly) the same load.

Same synthetic batches as bench_encode.py (batch x fixed length, real-token ids, no padding); RecAlign runs
`recalign bench-encode --serve` (one batch per request, Q/K/V weights stacked once as ONNX Runtime prepacks).
Prints, per length, each peer's best and median sentences/s, and RecAlign's ratio against each peer three
ways: best / best, median / median, and the median of the per-round paired ratios (the most robust to drift).

Usage (dev venv, from the repository root):
  /work/venv/bin/python Scripts/bench_encode_interleaved.py --recalign .build/release/recalign
      [--rounds 15] [--lengths 32,128] [--gap 0.3] [--json FILE]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_encode import (REPO_ROOT, atomic_write_json, ensure_onnx, load_average, log, ort_runners,  # noqa: E402
                          thread_env, torch_runners)

SCRIPT = os.path.abspath(__file__)


def serve(run_once_by_length, warmup=1):
    """Worker loop: warm up every length, print {"ready": true}, then one timed call per stdin line."""
    for _ in range(warmup):
        for fn in run_once_by_length.values():
            fn()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        t = int(line.strip())
        t0 = time.perf_counter()
        run_once_by_length[t]()
        print(json.dumps({"seconds": time.perf_counter() - t0}), flush=True)


class Server:
    """One peer process answering timed-call requests over its stdin / stdout."""

    def __init__(self, name, cmd, env):
        self.name = name
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, bufsize=1)
        self.read()  # {"ready": true} once loaded and warmed up

    def read(self):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                sys.exit(f"bench_encode_interleaved: {self.name} exited (status {self.proc.wait()}) before answering")
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)

    def call(self, length):
        self.proc.stdin.write(f"{length}\n")
        self.proc.stdin.flush()
        return self.read()["seconds"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def interleave(servers, lengths, rounds, warmup, gap):
    """Calls every server once per round and length, the order rotated, `gap` seconds apart; the first `warmup`
    rounds are not kept. Closes the servers. Returns {length: {server name: [seconds per kept round]}}."""
    times = {t: {s.name: [] for s in servers} for t in lengths}
    for r in range(warmup + rounds):
        for t in lengths:
            k = (r + t) % len(servers)
            for s in servers[k:] + servers[:k]:
                time.sleep(gap)
                sec = s.call(t)
                if r >= warmup:
                    times[t][s.name].append(sec)
        log(f"round {r + 1} of {warmup + rounds} done{' (warm-up)' if r < warmup else ''}")
    for s in servers:
        s.close()
    return times


def paired(numerators, denominators):
    """Per-round ratios n / d, sorted, with their median and 25th / 75th percentiles: (median, q1, q3, ratios)."""
    ratios = sorted(n / d for n, d in zip(numerators, denominators))
    q = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [ratios[0]] * 3
    return statistics.median(ratios), q[0], q[2], ratios


def report_times(title, each, started, load_start, load_end, a, lengths, times, heads, cell):
    """Prints a run's heading, its load and the best / median table (`heads`: the length and process column
    names and the unit; `cell` formats one time); returns the JSON report's common fields."""
    print(f"\n## {title}\n")
    print(f"{started}; load average {load_start} at start, {load_end} at end. {each}, order rotated, "
          f"{a.gap:g} s apart.\n")
    print(f"| {heads[0]} | {heads[1]} | best {heads[2]} | median {heads[2]} |")
    print("| --- | --- | ---: | ---: |")
    for t in lengths:
        for name, ts in times[t].items():
            print(f"| {t} | {name} | {cell(min(ts))} | {cell(statistics.median(ts))} |")
    return {"started": started, "load_average_start": load_start, "load_average_end": load_end, "batch": a.batch,
            "rounds": a.rounds, "gap": a.gap, "seconds": {str(t): v for t, v in times.items()}, "ratios": {}}


def interleaved_arguments(doc):
    """The options both interleaved benchmarks take: --model, --recalign, --batch, --threads, --json."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=doc)
    ap.add_argument("--model", default=os.path.join(REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
    ap.add_argument("--recalign", default=os.path.join(REPO_ROOT, ".build", "release", "recalign"))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="also write every timing to this JSON file")
    return ap


def main():
    ap = interleaved_arguments(__doc__)
    ap.add_argument("--lengths", default="32,128")
    ap.add_argument("--rounds", type=int, default=15, help="timed calls per peer and length, interleaved")
    ap.add_argument("--gap", type=float, default=0.3, help="seconds of pause between two calls")
    ap.add_argument("--cache", default=os.path.join("/tmp", "recalign-bench"), help="folder of the ONNX export")
    ap.add_argument("--serve", choices=["torch", "ort"], help=argparse.SUPPRESS)
    ap.add_argument("--onnx", help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.lengths = [int(x) for x in a.lengths.split(",") if x.strip()]
    if a.serve:
        return serve((torch_runners if a.serve == "torch" else ort_runners)(a)[0])

    a.model = os.path.abspath(a.model)
    if not os.path.isfile(a.recalign):
        sys.exit(f"bench_encode_interleaved: --recalign {a.recalign}: no such file (swift build -c release)")
    env = thread_env(a.threads)
    onnx = ensure_onnx(a, env)
    if onnx is None:
        sys.exit("bench_encode_interleaved: the ONNX export failed")
    common = ["--model", a.model, "--batch", str(a.batch), "--lengths", ",".join(map(str, a.lengths)),
              "--threads", str(a.threads)]
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load_start = load_average()
    log(f"start {started}, load average {load_start}; loading the three peers")
    servers = [Server("RecAlign", [os.path.abspath(a.recalign), "bench-encode", "--serve", "--model", a.model,
                                   "--batch", str(a.batch), "--lengths", ",".join(map(str, a.lengths))], env),
               Server("ONNX Runtime", [sys.executable, SCRIPT, "--serve", "ort", "--onnx", onnx] + common, env),
               Server("PyTorch", [sys.executable, SCRIPT, "--serve", "torch"] + common, env)]
    times = interleave(servers, a.lengths, a.rounds, warmup=0, gap=a.gap)
    load_end = load_average()

    report = report_times(f"Interleaved encode throughput: all-MiniLM-L6-v2, batch {a.batch}, {a.threads} threads "
                          f"each, {a.rounds} rounds", "One call of each peer per round", started, load_start, load_end,
                          a, a.lengths, times, ("length", "peer", "sent/s"), lambda x: f"{a.batch / x:.1f}")
    print("\nRecAlign / peer (speed ratio, > 1 = RecAlign faster): best / best, median / median, "
          "median of the per-round paired ratios [their 25th-75th percentile]:\n")
    for t in a.lengths:
        mine = times[t]["RecAlign"]
        for peer, target in (("ONNX Runtime", 1.0), ("PyTorch", 1.15)):
            other = times[t][peer]
            best = min(other) / min(mine)
            med = statistics.median(other) / statistics.median(mine)
            pm, q1, q3, ratios = paired(other, mine)
            verdict = "met" if pm >= target else "MISSED"
            print(f"- @{t} vs {peer}: {best:.2f}x / {med:.2f}x / {pm:.2f}x [{q1:.2f}-{q3:.2f}] "
                  f"(target >= {target:.2f}x on the paired median: {verdict})")
            report["ratios"][f"{t}/{peer}"] = {"best": best, "median": med, "paired_median": pm, "paired": ratios}
    if a.json:
        atomic_write_json(a.json, report)


if __name__ == "__main__":
    main()
