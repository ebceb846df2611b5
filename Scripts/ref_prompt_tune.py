#!/usr/bin/env python3
"""Python (PyTorch) reference of soft-prompt tuning on ml-100k under the protocol, to set RecAlign's figure beside.

Issue 5 quotes a reference figure for "soft prompt, 20 vectors, encoder frozen, 4,000 pairs, lr 3e-3"; this
script reruns that recipe on this machine with the protocol's pieces (/work/shared/PROTOCOL.md):
  * pairs (section 6): every (user text of h[:t], item text of h[t]) over the warm train sequences, t >= 1;
    a uniform subsample of --pairs with --pairs-seed; batches of 32 that never hold a target twice (greedy
    deferral over a shuffle with seed --seed + epoch, as sentence-transformers' NO_DUPLICATES sampler);
  * model: all-MiniLM-L6-v2 frozen (requires_grad False, dropout on in training), 20 virtual token vectors
    after [CLS] (initialised from random vocabulary rows >= 1000, or from --prompt-init's token embeddings),
    position ids 0..T+19 over the longer sequence, attention mask extended with ones; the text keeps its own
    128-token budget; mean pooling over the text's tokens (--pool-virtual-tokens: over the virtual ones too);
  * loss MNRL (cross-entropy over 20 x cosine with the batch's targets), AdamW lr 3e-3, weight decay 0,
    10% linear warm-up then linear decay to 0 over all steps, gradient-norm clip 1.0, --epochs epochs (1);
  * validation on the warm valid split every --eval-every steps and at the end (step 0 too), the best by
    Recall@10 (NDCG@10 breaks ties, the earliest kept) tested on the warm test split (section 4's ranking).
Prints one JSON line per validation and the test metrics of the kept prompt; --json FILE writes them.

Usage (dev venv, offline; from the repository root):
  /work/venv/bin/python Scripts/ref_prompt_tune.py [--pairs 4000] [--seed 42] [--pairs-seed 42]
      [--eval-every 25] [--epochs 1] [--prompt-init TEXT] [--pool-virtual-tokens] [--threads 2] [--json FILE] [--save DIR]
--save DIR writes the kept prompt as RecAlign's adapter folder (adapter.safetensors with `soft_prompt` [20, 384],
adapter_config.json), so that `recalign evaluate --compare DIR` scores the PyTorch-trained prompt.
"""

import argparse
import json
import math
import os
import random
import sys
import time

from ref_frozen_eval import build_user_text, eval_users, load_corpus, rank_metrics, split_loo, summarize, token_counter
from soft_prompt import embed_with_prompt

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LEN = 128
SCALE = 20.0
BATCH = 32


def no_duplicate_batches(targets, batch, seed):
    """Greedy deferral: walk a seeded shuffle, put each pair in the open batch unless its target is there."""
    order = list(range(len(targets)))
    random.Random(seed).shuffle(order)
    batches = []
    while order:
        cur, seen, rest = [], set(), []
        for k in order:
            if len(cur) < batch and targets[k] not in seen:
                cur.append(k)
                seen.add(targets[k])
            else:
                rest.append(k)
        batches.append(cur)
        order = rest
    return batches


def save_adapter(folder, prompt, config, args):
    """RecAlign's prompt adapter folder, written to a temp folder and renamed."""
    from safetensors.numpy import save_file
    parent = os.path.dirname(os.path.abspath(folder))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".tmp-{os.path.basename(folder)}-{os.getpid()}")
    os.makedirs(tmp)
    save_file({"soft_prompt": np.ascontiguousarray(prompt, dtype=np.float32)}, os.path.join(tmp, "adapter.safetensors"))
    cfg = {"base_model": os.path.relpath(args.model, REPO_ROOT), "hidden_size": config.hidden_size, "method": "prompt",
           "num_hidden_layers": config.num_hidden_layers, "num_virtual_tokens": int(prompt.shape[0]),
           "pool_virtual_tokens": bool(args.pool_virtual_tokens)}
    with open(os.path.join(tmp, "adapter_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    if os.path.exists(folder):
        import shutil
        shutil.rmtree(folder)
    os.replace(tmp, folder)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(REPO_ROOT, "corpora", "ml-100k"))
    ap.add_argument("--model", default=os.path.join(REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
    ap.add_argument("--pairs", type=int, default=4000)
    ap.add_argument("--pairs-seed", type=int, default=42)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--prompt-length", type=int, default=20)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--eval-every", type=int, default=25)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--prompt-init", default=None)
    ap.add_argument("--pool-virtual-tokens", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    ap.add_argument("--save", default=None, help="write the kept prompt as a RecAlign adapter folder (evaluate --compare DIR)")
    args = ap.parse_args()

    import torch
    import torch.nn.functional as F
    from transformers import AutoModel, AutoTokenizer
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    user_ids, item_ids, by_user, texts = load_corpus(args.corpus)
    split = split_loo(user_ids, item_ids, by_user)
    row_of = {i: r for r, i in enumerate(item_ids)}
    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModel.from_pretrained(args.model)
    for p in model.parameters():
        p.requires_grad_(False)
    word_emb = model.get_input_embeddings()
    P = args.prompt_length

    n_tokens = token_counter(tok)

    # Pairs (section 6): (user, t) over the warm train sequences, a uniform subsample, texts built lazily.
    index = [(u, t) for u in user_ids for t in range(1, len(split[u][0]))]
    print(f"pairs: {len(index)} in all, {min(args.pairs, len(index))} sampled (pairs seed {args.pairs_seed})", flush=True)
    chosen = random.Random(args.pairs_seed).sample(index, min(args.pairs, len(index)))
    pair_users, pair_items = [], []
    for u, t in chosen:
        hist = [i for i, _ in split[u][0]]
        pair_users.append(build_user_text(hist[:t], texts, n_tokens, MAX_LEN)[1])
        pair_items.append(hist[t])

    g = torch.Generator().manual_seed(args.seed)
    if args.prompt_init:
        ids = tok(args.prompt_init, add_special_tokens=False)["input_ids"]
        rows = torch.tensor([ids[k % len(ids)] for k in range(P)])
    else:
        rows = torch.randint(1000, word_emb.num_embeddings, (P,), generator=g)
    prompt = torch.nn.Parameter(word_emb.weight[rows].detach().clone())

    def embed(batch_texts):
        return embed_with_prompt(model, tok, batch_texts, prompt, args.pool_virtual_tokens, MAX_LEN)

    def encode(all_texts, bs=64):
        order = sorted(range(len(all_texts)), key=lambda k: -len(all_texts[k]))
        out = np.zeros((len(all_texts), model.config.hidden_size), dtype=np.float32)
        model.eval()
        with torch.no_grad():
            for s in range(0, len(order), bs):
                ks = order[s:s + bs]
                out[ks] = embed([all_texts[k] for k in ks]).numpy()
        return out

    # Evaluation users (section 4): valid = train history -> valid item; test = train + valid -> test item.
    item_list = [texts[i] for i in item_ids]
    evals = {which: eval_users(split, user_ids, row_of, texts, n_tokens, MAX_LEN, which)[1:] for which in ("valid", "test")}

    def evaluate(which):
        utexts, targets, excluded = evals[which]
        items = encode(item_list)
        users = encode(utexts)
        return summarize(rank_metrics(users @ items.T, targets, excluded))

    batches = [b for e in range(args.epochs) for b in no_duplicate_batches(pair_items, BATCH, args.seed + e)]
    steps = len(batches)
    warm = math.ceil(0.1 * steps)
    opt = torch.optim.AdamW([prompt], lr=args.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: s / max(1, warm) if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))

    log = []
    best = None

    def validate(step):
        nonlocal best
        t0 = time.time()
        m = evaluate("valid")
        rec = {"step": step, "valid": m, "seconds": round(time.time() - t0, 1)}
        log.append(rec)
        print(json.dumps(rec), flush=True)
        key = (m["Recall@10"], m["NDCG@10"])
        if best is None or key > best[0]:
            best = (key, step, prompt.detach().clone())

    validate(0)
    t_train = 0.0
    for s, bidx in enumerate(batches, start=1):
        t0 = time.time()
        model.train()
        u = embed([pair_users[k] for k in bidx])
        v = embed([texts[pair_items[k]] for k in bidx])
        loss = F.cross_entropy(SCALE * u @ v.T, torch.arange(len(bidx)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([prompt], 1.0)
        opt.step()
        sched.step()
        t_train += time.time() - t0
        if s % 10 == 0 or s == steps:
            print(f"step {s}/{steps} loss {loss.item():.4f} lr {sched.get_last_lr()[0]:.2e} "
                  f"{t_train / s:.2f} s/step", flush=True)
        if s % args.eval_every == 0 or s == steps:
            validate(s)

    with torch.no_grad():
        prompt.copy_(best[2])
    test = evaluate("test")
    result = {"best_step": best[1], "test": test, "train_seconds": round(t_train, 1), "steps": steps,
              "pairs": len(chosen), "epochs": args.epochs, "seed": args.seed, "pairs_seed": args.pairs_seed,
              "prompt_init": args.prompt_init, "pool_virtual_tokens": args.pool_virtual_tokens,
              "validations": log, "torch": torch.__version__.split("+")[0]}
    print(json.dumps({"best_step": best[1], "test": test, "train_seconds": result["train_seconds"]}), flush=True)
    if args.save:
        save_adapter(args.save, prompt.detach().numpy(), model.config, args)
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=1)
        os.replace(tmp, args.json)


if __name__ == "__main__":
    sys.exit(main())
