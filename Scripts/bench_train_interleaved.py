#!/usr/bin/env python3
"""Training-step speed with the peers' steps interleaved: RecAlign and PyTorch, full fine-tuning and soft prompt.

bench_train_step.py times each configuration in its own process and block of time (that is how it measures
each one's peak RSS); on this shared machine the load moves by 20-30% between blocks. Here four processes
stay loaded side by side (RecAlign full, RecAlign prompt, PyTorch full, PyTorch prompt; 2 threads each) and
take turns, one step each per round and user length, the order rotated every round, with a pause between
steps. Each round's four steps lie within seconds of each other, so each round gives paired ratios at
(nearly) the same load: PyTorch / RecAlign per method, and full / prompt within each implementation.

The step is bench_train_step.py's (32 pairs, user texts of length L, item texts of length 32, MNRL, backward,
AdamW, dropout on; prompt: 20 virtual tokens, encoder frozen), on fresh random real-token ids every step.
RecAlign runs `recalign bench-train --serve --method M`. Two warm-up rounds are not timed.

Usage (dev venv, from the repository root):
  /work/venv/bin/python Scripts/bench_train_interleaved.py --recalign .build/release/recalign
      [--rounds 8] [--user-lengths 32,128] [--gap 0.5] [--json FILE]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_encode import atomic_write_json, load_average, log, synthetic_ids, thread_env  # noqa: E402
from bench_encode_interleaved import (Server, interleave, interleaved_arguments, paired,  # noqa: E402
                                      report_times, serve)
from bench_train_step import torch_trainer  # noqa: E402

SCRIPT = os.path.abspath(__file__)


def serve_torch(a):
    import torch
    step, _ = torch_trainer(a, a.serve)
    rounds = [0]

    def one(t):
        rounds[0] += 1  # fresh ids every step, as RecAlign draws them
        users = torch.from_numpy(synthetic_ids(a.model, a.batch, t, seed=1000 * rounds[0] + t))
        items = torch.from_numpy(synthetic_ids(a.model, a.batch, a.item_length, seed=1000 * rounds[0] + 7))
        step(users, items)
    serve({t: (lambda t=t: one(t)) for t in a.user_lengths}, warmup=0)


def main():
    ap = interleaved_arguments(__doc__)
    ap.add_argument("--user-lengths", default="32,128")
    ap.add_argument("--item-length", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=8, help="timed steps per process and user length, interleaved")
    ap.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    ap.add_argument("--gap", type=float, default=0.5, help="seconds of pause between two steps")
    ap.add_argument("--serve", choices=["full", "prompt"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.user_lengths = [int(x) for x in a.user_lengths.split(",") if x.strip()]
    if a.serve:
        return serve_torch(a)

    a.model = os.path.abspath(a.model)
    if not os.path.isfile(a.recalign):
        sys.exit(f"bench_train_interleaved: --recalign {a.recalign}: no such file (swift build -c release)")
    env = thread_env(a.threads)
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load_start = load_average()
    log(f"start {started}, load average {load_start}; loading four processes")
    servers = []
    for m in ("full", "prompt"):
        servers.append(Server(f"RecAlign {m}", [os.path.abspath(a.recalign), "bench-train", "--serve", "--method", m,
                                                "--model", a.model, "--batch", str(a.batch),
                                                "--item-length", str(a.item_length)], env))
        servers.append(Server(f"PyTorch {m}", [sys.executable, SCRIPT, "--serve", m, "--model", a.model,
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


if __name__ == "__main__":
    main()
