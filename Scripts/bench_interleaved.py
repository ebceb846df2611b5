#!/usr/bin/env python3
"""RecAlign against its peers with their timed calls interleaved: `encode` (ONNX Runtime, PyTorch) or `train` (PyTorch).

bench_encode.py and bench_train_step.py time each peer in its own block of seconds (that is how they measure each
one's peak RSS); on this shared machine the load moves by 20-30% between blocks, which is as large as the
differences being measured. Here every process stays loaded side by side (2 threads each, model loaded and
warmed up once) and they take turns, one call each per round and length, the order rotated every round, with a
pause between calls so that no process's spinning threads eat into the next one's call. Each round's calls lie
within seconds of each other, so each round gives paired ratios at (nearly) the same load.

encode: RecAlign, ONNX Runtime and PyTorch eager; the synthetic batches of bench_encode.py (batch x fixed
  length, real-token ids, no padding). RecAlign runs `EncodeBench --serve` (one batch per request, Q/K/V
  weights stacked and packed once as ONNX Runtime prepacks). Prints, per length, each peer's best and median
  sentences/s, and RecAlign's ratio against each peer three ways: best / best, median / median, and the
  median of the per-round paired ratios (the most robust to drift).
train: four processes, RecAlign full, RecAlign prompt, PyTorch full, PyTorch prompt. The step is
  bench_train_step.py's (32 pairs, user texts of length L, item texts of length 32, MNRL, backward, AdamW,
  dropout on; prompt: 20 virtual tokens, encoder frozen), on fresh random real-token ids every step.
  RecAlign runs `TrainBench --serve --method M`. Two warm-up rounds are not timed. Prints per-round paired
  ratios: PyTorch / RecAlign per method, and full / prompt within each implementation.

RecAlign's side is a command: --recalign-encode CMD / --recalign-train CMD (default .build/release/EncodeBench
and .build/release/TrainBench; `swift build -c release --product EncodeBench --product TrainBench`). CMD may
carry arguments, so a build from before the benchmarks left the CLI is measured by the same script:
  --recalign-encode "/work/bench-bin/255c742/recalign bench-encode"
(a bare path to a binary named `recalign` gets `bench-encode` / `bench-train` appended).

Usage (dev venv, from the repository root):
  /work/venv/bin/python Scripts/bench_interleaved.py encode [--recalign-encode CMD]
      [--rounds 15] [--lengths 32,128] [--gap 0.3] [--json FILE]
  /work/venv/bin/python Scripts/bench_interleaved.py train [--recalign-train CMD]
      [--rounds 8] [--user-lengths 32,128] [--warmup 2] [--gap 0.5] [--json FILE]
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_encode import (DEFAULT_BINARY, LEGACY_SUBCOMMAND, REPO_ROOT, atomic_write_json, ensure_onnx,  # noqa: E402
                          load_average, log, ort_runners, recalign_command, synthetic_ids, thread_env, torch_runners)

SCRIPT = os.path.abspath(__file__)
NAME = "bench_interleaved"
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
        log(f"{name}: {' '.join(shlex.quote(c) for c in cmd)}")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, bufsize=1)
        self.read()  # {"ready": true} once loaded and warmed up

    def read(self):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                sys.exit(f"{NAME}: {self.name} exited (status {self.proc.wait()}) before answering")
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
            "rounds": a.rounds, "gap": a.gap, "seconds": {str(t): v for t, v in times.items()}, "ratios": {},
            "recalign_command": a.recalign_argv}


# ---------------------------------------------------------------------------------------------------- encode

def resolve_recalign(a, job):
    """Makes the model path absolute and sets a.recalign_argv from --recalign-<job>, or exits naming the build."""
    a.model = os.path.abspath(a.model)
    a.recalign_argv = recalign_command(a.recalign_cmd, job)
    if a.recalign_argv is None:
        sys.exit(f"{NAME}: --recalign-{job} {a.recalign_cmd!r}: no such file "
                 f"(swift build -c release --product {DEFAULT_BINARY[job]})")


def run_encode(a):
    a.lengths = [int(x) for x in a.lengths.split(",") if x.strip()]
    if a.serve:
        return serve((torch_runners if a.serve == "torch" else ort_runners)(a)[0])

    resolve_recalign(a, "encode")
    env = thread_env(a.threads)
    onnx = ensure_onnx(a, env)
    if onnx is None:
        sys.exit(f"{NAME}: the ONNX export failed")
    common = ["--model", a.model, "--batch", str(a.batch), "--lengths", ",".join(map(str, a.lengths)),
              "--threads", str(a.threads)]
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load_start = load_average()
    log(f"start {started}, load average {load_start}; loading the peers")
    recalign = a.recalign_argv + ["--serve", "--model", a.model, "--batch", str(a.batch), "--lengths", ",".join(map(str, a.lengths))]
    if a.precision == "int8":   # RecAlign int8 against ONNX Runtime's dynamic int8 quantization of the same export
        import bench_precision
        onnx = bench_precision.ensure_int8(onnx)
        servers = [Server("RecAlign", recalign + ["--precision", "int8"], env),
                   Server("ONNX Runtime", [sys.executable, SCRIPT, "encode", "--serve", "ort", "--onnx", onnx] + common, env)]
    else:
        servers = [Server("RecAlign", recalign, env),
                   Server("ONNX Runtime", [sys.executable, SCRIPT, "encode", "--serve", "ort", "--onnx", onnx] + common, env),
                   Server("PyTorch", [sys.executable, SCRIPT, "encode", "--serve", "torch"] + common, env)]
    times = interleave(servers, a.lengths, a.rounds, warmup=0, gap=a.gap)
    load_end = load_average()

    report = report_times(f"Interleaved encode throughput ({a.precision}): all-MiniLM-L6-v2, batch {a.batch}, {a.threads} threads "
                          f"each, {a.rounds} rounds", "One call of each peer per round", started, load_start, load_end,
                          a, a.lengths, times, ("length", "peer", "sent/s"), lambda x: f"{a.batch / x:.1f}")
    print("\nRecAlign / peer (speed ratio, > 1 = RecAlign faster): best / best, median / median, "
          "median of the per-round paired ratios [their 25th-75th percentile]:\n")
    for t in a.lengths:
        mine = times[t]["RecAlign"]
        for peer, target in (("ONNX Runtime", 1.0), ("PyTorch", 1.15)) if a.precision == "fp32" else (("ONNX Runtime", 1.0),):
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


# ----------------------------------------------------------------------------------------------------- train

def serve_torch_train(a):
    import torch
    from bench_train_step import torch_trainer
    step, _ = torch_trainer(a, a.serve)
    rounds = [0]

    def one(t):
        rounds[0] += 1  # fresh ids every step, as RecAlign draws them
        users = torch.from_numpy(synthetic_ids(a.model, a.batch, t, seed=1000 * rounds[0] + t))
        items = torch.from_numpy(synthetic_ids(a.model, a.batch, a.item_length, seed=1000 * rounds[0] + 7))
        step(users, items)
    serve({t: (lambda t=t: one(t)) for t in a.user_lengths}, warmup=0)


def run_train(a):
    a.user_lengths = [int(x) for x in a.user_lengths.split(",") if x.strip()]
    if a.serve:
        return serve_torch_train(a)

    resolve_recalign(a, "train")
    env = thread_env(a.threads)
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load_start = load_average()
    log(f"start {started}, load average {load_start}; loading four processes")
    servers = []
    for m in ("full", "prompt"):
        servers.append(Server(f"RecAlign {m}", a.recalign_argv + ["--serve", "--method", m, "--model", a.model,
                                                                  "--batch", str(a.batch),
                                                                  "--item-length", str(a.item_length)], env))
        servers.append(Server(f"PyTorch {m}", [sys.executable, SCRIPT, "train", "--serve", m, "--model", a.model,
                                               "--batch", str(a.batch), "--item-length", str(a.item_length),
                                               "--user-lengths", ",".join(map(str, a.user_lengths)),
                                               "--threads", str(a.threads)], env))
    times = interleave(servers, a.user_lengths, a.rounds, warmup=a.warmup, gap=a.gap)
    load_end = load_average()

    report = report_times(f"Interleaved training steps: all-MiniLM-L6-v2, batch {a.batch}, item length "
                          f"{a.item_length}, {a.threads} threads each, {a.rounds} timed rounds",
                          "One step of each process per round and length", started, load_start, load_end, a,
                          a.user_lengths, times, ("user length", "process", "s/step"), lambda x: f"{x:.2f}")
    print("\nPaired per-round ratios (median [25th-75th percentile]):\n")
    for t in a.user_lengths:
        tt = times[t]
        for label, num, den, target, what in (
                ("PyTorch / RecAlign, full", "PyTorch full", "RecAlign full", 1.3, ">= 1.30x"),
                ("PyTorch / RecAlign, prompt", "PyTorch prompt", "RecAlign prompt", 1.3, ">= 1.30x"),
                ("RecAlign full / RecAlign prompt", "RecAlign full", "RecAlign prompt", 1.0, "> 1: prompt faster"),
                ("PyTorch full / PyTorch prompt", "PyTorch full", "PyTorch prompt", None, "for reference")):
            pm, q1, q3, ratios = paired(tt[num], tt[den])
            verdict = "" if target is None else (": met" if (pm > target if target == 1.0 else pm >= target) else ": MISSED")
            print(f"- @{t} {label}: {pm:.2f}x [{q1:.2f}-{q3:.2f}] (target {what}{verdict})")
            report["ratios"][f"{t}/{label}"] = {"paired_median": pm, "paired": ratios}
    if a.json:
        atomic_write_json(a.json, report)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    jobs = ap.add_subparsers(dest="job", required=True, metavar="{encode,train}")

    def job_parser(name, help):
        p = jobs.add_parser(name, help=help, description=help)
        p.add_argument("--model", default=os.path.join(REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
        p.add_argument(f"--recalign-{name}", "--recalign", dest="recalign_cmd", metavar="CMD",
                       default=os.path.join(REPO_ROOT, ".build", "release", DEFAULT_BINARY[name]),
                       help=f"command that runs RecAlign's side (default .build/release/{DEFAULT_BINARY[name]}; "
                            f"an older build: 'PATH/recalign {LEGACY_SUBCOMMAND[name]}')")
        p.add_argument("--batch", type=int, default=32)
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--json", help="also write every timing to this JSON file")
        return p

    e = job_parser("encode", "encode throughput: RecAlign, ONNX Runtime and PyTorch eager, calls interleaved")
    e.add_argument("--lengths", default="32,128")
    e.add_argument("--rounds", type=int, default=15, help="timed calls per peer and length, interleaved")
    e.add_argument("--gap", type=float, default=0.3, help="seconds of pause between two calls")
    e.add_argument("--cache", default=os.path.join("/tmp", "recalign-bench"), help="folder of the ONNX export")
    e.add_argument("--precision", choices=["fp32", "int8"], default="fp32",
                   help="int8: RecAlign --precision int8 against ONNX Runtime dynamic int8 (PyTorch left out)")
    e.add_argument("--serve", choices=["torch", "ort"], help=argparse.SUPPRESS)
    e.add_argument("--onnx", help=argparse.SUPPRESS)
    e.set_defaults(run=run_encode)

    t = job_parser("train", "training steps: RecAlign and PyTorch, full fine-tuning and soft prompt, interleaved")
    t.add_argument("--user-lengths", default="32,128")
    t.add_argument("--item-length", type=int, default=32)
    t.add_argument("--rounds", type=int, default=8, help="timed steps per process and user length, interleaved")
    t.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    t.add_argument("--gap", type=float, default=0.5, help="seconds of pause between two steps")
    t.add_argument("--serve", choices=["full", "prompt"], help=argparse.SUPPRESS)
    t.set_defaults(run=run_train)

    a = ap.parse_args()
    a.run(a)


if __name__ == "__main__":
    main()
