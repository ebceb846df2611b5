#!/usr/bin/env python3
"""Training-step benchmark of all-MiniLM-L6-v2 (full fine-tuning, soft prompt), RecAlign beside PyTorch, in one command.

One step = both towers through the shared encoder (32 user texts of length L, 32 item texts of length 32),
MultipleNegativesRankingLoss (cross-entropy over 20 x cosine of every user embedding with every item
embedding of the batch, mean pooling), backward, AdamW step; dropout on (train mode); 2 threads.
  * full: every encoder weight trains, AdamW lr 5e-5, weight decay 0.01;
  * prompt: 20 virtual token vectors inserted after [CLS] in both towers (initialised from random
    vocabulary rows), the encoder frozen (requires_grad False: no weight gradients, no optimizer state),
    AdamW lr 3e-3, weight decay 0; built with inputs_embeds (word embeddings of the ids with the prompt
    spliced in), position ids 0..T+19 over the longer sequence, attention mask extended with ones.
Synthetic batches (what RecAlign is asked to run too): ids uniform in [999, vocab), [CLS] first, [SEP]
last, every sequence exactly its fixed length (all tokens real, attention mask all ones, token types 0).
Each configuration runs in its own subprocess (its peak RSS is its own): 2 warm-up steps, then up to
--steps timed steps; on a loaded machine fewer: no new step starts once the configuration has spent
--budget seconds (warm-up included) and has at least 1 warm-up and 1 timed step. Best and median are
reported; the ratios use the best (as bench_encode.py does). GFLOP/s counts 3 x forward FLOPs for full fine-tuning (forward, input
gradients, weight gradients) and 2 x the projections + 3 x the attention products for the prompt (no
weight gradients), over the token counts actually run (L+20 and 52 with the prompt).

With --recalign-train CMD (when its binary exists; CMD = .build/release/TrainBench, or
"OLD/recalign bench-train" for a build from before the benchmarks left the CLI) it then runs, per configuration,
  CMD --model DIR --method full|prompt --batch 32 --user-length L --item-length 32 --steps 5
which prints on its last stdout line {"seconds_per_step": x, "peak_rss_mb": m}, and prints one Markdown
table with both and the ratios against the targets of issue 5.

Usage (dev venv, offline; from the repository root):
  /work/venv/bin/python Scripts/bench_train_step.py [--model checkpoints/all-MiniLM-L6-v2]
      [--recalign-train .build/release/TrainBench] [--user-lengths 32,128] [--methods full,prompt] [--json FILE]
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_encode import (REPO_ROOT, atomic_write_json, bert_forward_flops, load_average, log, recalign_command,  # noqa: E402
                          measure_sgemm, run_child, synthetic_ids, thread_env, vm_hwm_mb, worker_cmd)

SCRIPT = os.path.abspath(__file__)
PROMPT_TOKENS = 20
SCALE = 20.0


def step_flops(model_dir, method, batch, user_len, item_len):
    """Approximate FLOPs of one training step (both towers, forward + backward) as described in the docstring."""
    total = 0.0
    for t in (user_len, item_len):
        t = t + PROMPT_TOKENS if method == "prompt" else t
        lin, att = bert_forward_flops(model_dir, batch, t)
        total += 3 * (lin + att) if method == "full" else 2 * lin + 3 * att
    return total


def torch_trainer(a, method):
    """A PyTorch training step for `method` (full | prompt) as the docstring describes.

    Returns (step, info): step(user_ids, item_ids) runs one step on int64 [B, T] tensors and returns the loss;
    info describes the setup (versions, threads, trainable parameters)."""
    import torch
    import torch.nn.functional as F
    import transformers
    from transformers import AutoModel
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    model = AutoModel.from_pretrained(a.model)
    model.train()  # dropout on
    word_emb = model.get_input_embeddings()

    if method == "full":
        params = [p for p in model.parameters()]
        opt = torch.optim.AdamW(params, lr=5e-5, weight_decay=0.01)
        prompt = None
    else:
        for p in model.parameters():
            p.requires_grad_(False)
        rows = torch.randint(999, word_emb.num_embeddings, (PROMPT_TOKENS,))
        prompt = torch.nn.Parameter(word_emb.weight[rows].detach().clone())
        params = [prompt]
        opt = torch.optim.AdamW(params, lr=3e-3, weight_decay=0.0)

    def embed(ids):
        """Mean-pooled, L2-normalised embeddings of ids [B, T] (with the prompt spliced in after [CLS])."""
        b, t = ids.shape
        if prompt is None:
            mask = torch.ones(b, t, dtype=torch.long)
            h = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
        else:
            we = word_emb(ids)
            x = torch.cat([we[:, :1], prompt.unsqueeze(0).expand(b, -1, -1), we[:, 1:]], dim=1)
            t2 = t + PROMPT_TOKENS
            mask = torch.ones(b, t2, dtype=torch.long)
            pos = torch.arange(t2).unsqueeze(0).expand(b, -1)
            h = model(inputs_embeds=x, attention_mask=mask, position_ids=pos,
                      token_type_ids=torch.zeros(b, t2, dtype=torch.long)).last_hidden_state
        m = mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, p=2, dim=1)

    def step(user_ids, item_ids):
        opt.zero_grad(set_to_none=True)
        u = embed(user_ids)
        v = embed(item_ids)
        loss = F.cross_entropy(SCALE * u @ v.T, torch.arange(u.shape[0]))
        loss.backward()
        opt.step()
        return loss.item()

    info = {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
            "attn_implementation": getattr(model.config, "_attn_implementation", None),
            "threads": torch.get_num_threads(), "trainable_parameters": sum(p.numel() for p in params)}
    return step, info


def worker_train(a):
    """Hidden worker: times training steps of one (method, user length) configuration in this process."""
    import torch
    step_once, info = torch_trainer(a, a.method)
    user_ids = torch.from_numpy(synthetic_ids(a.model, a.batch, a.user_length, seed=1000 + a.user_length))
    item_ids = torch.from_numpy(synthetic_ids(a.model, a.batch, a.item_length, seed=2000 + a.item_length))
    losses = []

    def step():
        losses.append(step_once(user_ids, item_ids))

    # At least one warm-up and one timed step; beyond that, no new step once `budget` seconds are spent.
    t_start = time.perf_counter()
    warm = 0
    for _ in range(max(1, a.warmup)):
        step()
        warm += 1
        if 0 < a.budget <= time.perf_counter() - t_start:
            break
    ts = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t0)
        if 0 < a.budget <= time.perf_counter() - t_start:
            break
    return dict({"peer": "pytorch", "method": a.method, "user_length": a.user_length, "item_length": a.item_length,
                 "batch": a.batch}, **info, warmup=warm, seconds=ts, seconds_per_step=min(ts),
                median_seconds_per_step=statistics.median(ts), losses=losses)


def worker_sgemm(a):
    return measure_sgemm(a.threads)


WORKERS = {"train": worker_train, "sgemm": worker_sgemm}


def fmt(x, spec=".2f"):
    return "–" if x is None else format(x, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--model", default=os.path.join(REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
    ap.add_argument("--recalign-train", "--recalign", dest="recalign", metavar="CMD",
                    help="command that runs RecAlign's training-step benchmark: .build/release/TrainBench, or "
                         "'OLD/recalign bench-train' for a build from before it left the CLI (skipped when absent)")
    ap.add_argument("--methods", default="full,prompt")
    ap.add_argument("--user-lengths", default="32,128")
    ap.add_argument("--item-length", type=int, default=32)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5, help="timed steps (at most)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    ap.add_argument("--budget", type=float, default=40.0,
                    help="seconds (warm-up included) after which a configuration takes no new step, once it has "
                         "one warm-up and one timed step (<= 0: always --warmup + --steps)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-sgemm", action="store_true", help="skip the bare sgemm reference")
    ap.add_argument("--json", help="also write every raw figure to this JSON file")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--method", help=argparse.SUPPRESS)
    ap.add_argument("--user-length", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        res = WORKERS[args.worker](args)
        res["vm_hwm_mb"] = vm_hwm_mb()
        print(json.dumps(res))
        return

    args.model = os.path.abspath(args.model)
    if not os.path.isfile(os.path.join(args.model, "config.json")):
        sys.exit(f"bench_train_step: {args.model}/config.json not found: no model folder "
                 f"(run checkpoints/fetch_model.sh or pass --model)")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in ("full", "prompt")]
    if bad:
        sys.exit(f"bench_train_step: --methods: unknown method(s) {bad}; known: full, prompt")
    lengths = [int(x) for x in args.user_lengths.split(",") if x.strip()]
    configs = [(m, L) for L in lengths for m in methods]

    env = thread_env(args.threads)
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load_start = load_average()
    log(f"start {started}, load average {load_start}, {os.cpu_count()} CPUs, {args.threads} threads")
    common = ["--model", args.model, "--batch", str(args.batch), "--item-length", str(args.item_length),
              "--steps", str(args.steps), "--warmup", str(args.warmup), "--budget", str(args.budget),
              "--threads", str(args.threads)]
    errors, sgemm = [], []
    if not args.no_sgemm:
        res, _, _, err = run_child(worker_cmd(SCRIPT, "sgemm", common), env=env, label="sgemm")
        (errors.append(err) if err else sgemm.append(res))
    peers = {}
    for m, L in configs:
        log(f"PyTorch {m} L={L} ...")
        res, rss, wall, err = run_child(worker_cmd(SCRIPT, "train", common + ["--method", m, "--user-length", str(L)]),
                                        env=env, label=f"pytorch {m} L={L}")
        if err:
            errors.append(err)
            log(err)
            continue
        res["peak_rss_mb"] = rss
        peers[(m, L)] = res
        log(f"PyTorch {m} L={L}: {res['seconds_per_step']:.2f} s/step best, {len(res['seconds'])} timed, "
            f"peak RSS {rss:.0f} MB ({wall:.0f} s)")

    ra = {}
    if args.recalign:
        prefix = recalign_command(args.recalign, "train")
        if prefix is None:
            log(f"--recalign-train {args.recalign}: no such file; RecAlign rows skipped")
        else:
            for m, L in configs:
                cmd = prefix + ["--model", args.model, "--method", m,
                                "--batch", str(args.batch), "--user-length", str(L), "--item-length", str(args.item_length),
                                "--steps", str(args.steps)]
                log("RecAlign: " + " ".join(cmd))
                res, rss, wall, err = run_child(cmd, env=env, label=f"recalign {m} L={L}")
                if err:
                    errors.append(err)
                    log(err)
                    continue
                if not isinstance(res.get("seconds_per_step"), (int, float)) or res["seconds_per_step"] <= 0:
                    errors.append(f"recalign {m} L={L}: JSON has no positive number 'seconds_per_step': {res}")
                    continue
                res["self_reported_rss_mb"] = res.get("peak_rss_mb")
                res["peak_rss_mb"] = rss
                ra[(m, L)] = res
                log(f"RecAlign {m} L={L}: {res['seconds_per_step']:.2f} s/step, peak RSS {rss:.0f} MB ({wall:.0f} s)")

    if not args.no_sgemm:
        res, _, _, err = run_child(worker_cmd(SCRIPT, "sgemm", common), env=env, label="sgemm (end)")
        (errors.append(err) if err else sgemm.append(res))
    report = {"started": started, "load_average_start": load_start, "load_average_end": load_average(),
              "cpus": os.cpu_count(), "threads": args.threads, "batch": args.batch, "item_length": args.item_length,
              "steps": args.steps, "warmup": args.warmup, "budget": args.budget, "model": args.model, "sgemm": sgemm,
              "pytorch": [v for v in peers.values()],
              "recalign": [dict(v, method=k[0], user_length=k[1]) for k, v in ra.items()], "errors": errors}
    print_report(args, report, configs, peers, ra)
    if args.json:
        atomic_write_json(args.json, report)
    if errors:
        sys.exit(1)


def print_report(args, r, configs, peers, ra):
    sg = max([x["numpy_gflops"] for x in r["sgemm"]], default=None)
    print(f"\n## Training step: all-MiniLM-L6-v2, batch {args.batch} pairs, item length {args.item_length}, "
          f"MNRL, AdamW, dropout on, {args.threads} threads\n")
    print(f"{r['started']}; load average {r['load_average_start']} at start, {r['load_average_end']} at end "
          f"({r['cpus']} CPUs; the machine is shared, so only figures of the same run compare).")
    if r["sgemm"]:
        print("Bare sgemm (numpy, 2048x384x1536) at start / end: "
              + " / ".join(f"{x['numpy_gflops']:.0f}" for x in r["sgemm"]) + f" GFLOP/s; % below = of {sg:.0f}.")
    first = next(iter(peers.values()), None)
    if first:
        print(f"PyTorch: torch {first['torch']}, transformers {first['transformers']}, attn {first['attn_implementation']}; "
              f"up to {args.warmup} warm-up steps, then up to {args.steps} timed (budget {args.budget:g} s per configuration; "
              f"counts below).")
    print()
    head = ["peer", "method", "user len", "s/step best", "s/step median", "steps/s", "GFLOP/s (% of sgemm)",
            "warm-up + timed steps", "peak RSS MB"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for m, L in configs:
        flops = step_flops(args.model, m, args.batch, L, args.item_length)
        for name, src in (("PyTorch", peers), ("RecAlign", ra)):
            x = src.get((m, L))
            if not x:
                continue
            best = x["seconds_per_step"]
            med = x.get("median_seconds_per_step")
            g = flops / best / 1e9
            pct = f" ({100 * g / sg:.0f}%)" if sg else ""
            n = f"{x.get('warmup', '?')} + {len(x['seconds'])}" if isinstance(x.get("seconds"), list) else "–"
            print(f"| {name} | {m} | {L} | {best:.2f} | {fmt(med)} | {1 / best:.3f} | {g:.0f}{pct} | {n} | "
                  f"{x['peak_rss_mb']:.0f} |")

    if ra:
        print("\nRecAlign against the targets of issue 5:\n")
        for m, L in configs:
            p, q = peers.get((m, L)), ra.get((m, L))
            if not (p and q):
                continue
            speed = p["seconds_per_step"] / q["seconds_per_step"]
            print(f"- {m} L={L}: RecAlign / PyTorch steps/s {speed:.2f}x (target >= 1.30x: "
                  f"{'met' if speed >= 1.3 else 'MISSED'}); peak RSS {q['peak_rss_mb']:.0f} vs {p['peak_rss_mb']:.0f} MB "
                  f"(target <= PyTorch: {'met' if q['peak_rss_mb'] <= p['peak_rss_mb'] else 'MISSED'})")
    lines = []
    for name, src in (("PyTorch", peers), ("RecAlign", ra)):
        for L in sorted({L for _, L in configs}):
            f, pr = src.get(("full", L)), src.get(("prompt", L))
            if f and pr:
                ok = pr["seconds_per_step"] < f["seconds_per_step"]
                tail = f" (target: {'met' if ok else 'MISSED'})" if name == "RecAlign" else ""
                lines.append(f"- {name} L={L}: prompt {pr['seconds_per_step']:.2f} s/step vs full "
                             f"{f['seconds_per_step']:.2f} ({'faster' if ok else 'not faster'}){tail}")
    if lines:
        print("\nPrompt tuning against full fine-tuning, per step:\n")
        print("\n".join(lines))
    if r["errors"]:
        print("\nErrors:\n" + "\n".join(f"- {e}" for e in r["errors"]))


if __name__ == "__main__":
    main()
