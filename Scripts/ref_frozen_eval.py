#!/usr/bin/env python3
"""Python reference of the evaluation protocol (/work/shared/PROTOCOL.md) for the frozen all-MiniLM-L6-v2 text towers.

ml-100k, warm leave-one-out split, user text = most recent up-to-20 history items truncated to L tokens
(section 5), full ranking with exclusions (section 4); prints Recall@10 / NDCG@10 / MRR@10 / Recall@50 for
  * popularity (train interaction counts),
  * frozen encoder: user = encoder(user text), item = encoder(item text).
It also writes the split files and the user texts it built (--out), so that another implementation can be
compared file by file and string by string.

Usage (dev venv, offline):
  /work/venv/bin/python Scripts/ref_frozen_eval.py [--corpus corpora/ml-100k] [--model checkpoints/all-MiniLM-L6-v2]
      [--max-len 128] [--out runs/ref-split] [--split test|valid|both]
"""

import argparse
import json
import math
import os
import re
import sys
import tempfile
from collections import defaultdict

from ml100k import item_texts, read_atomic

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_HISTORY = 20
KS = (10, 50)


def id_key(ids):
    """Sort key for ids: numeric order when every id is an integer, else string order (PROTOCOL.md section 1)."""
    if all(re.fullmatch(r"-?\d+", s) for s in ids):
        return lambda s: (int(s), s)
    return lambda s: s


def load_corpus(corpus):
    """Interactions (dedup earliest, users >= 5), item universe and item texts of ml-100k."""
    names, rows = read_atomic(os.path.join(corpus, "ml-100k.inter"))
    ui, ii, ti = names.index("user_id"), names.index("item_id"), names.index("timestamp")
    first = {}
    for r in rows:
        key = (r[ui], r[ii])
        ts = float(r[ti])
        if key not in first or ts < first[key][0]:
            first[key] = (ts, r[ti])
    by_user = defaultdict(list)
    for (u, i), (ts, raw) in first.items():
        by_user[u].append((ts, i, raw))
    by_user = {u: v for u, v in by_user.items() if len(v) >= 5}
    item_ids = sorted({i for v in by_user.values() for _, i, _ in v}, key=id_key([i for v in by_user.values() for _, i, _ in v]))
    user_ids = sorted(by_user, key=id_key(list(by_user)))

    texts = item_texts(corpus)
    missing = [i for i in item_ids if i not in texts]
    if missing:
        sys.exit(f"ml-100k.item: no text for items {missing[:5]}")
    return user_ids, item_ids, by_user, texts


def split_loo(user_ids, item_ids, by_user):
    """Chronological leave-one-out: returns {user: (train items in order, valid, test)} with (item, ts_raw) tuples."""
    key = id_key(item_ids)
    out = {}
    for u in user_ids:
        seq = sorted(by_user[u], key=lambda x: (x[0], key(x[1])))
        seq = [(i, raw) for _, i, raw in seq]
        out[u] = (seq[:-2], seq[-2], seq[-1])
    return out


def atomic_write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_split(out, user_ids, item_ids, texts, split):
    lines = ["row\tuser_id"] + [f"{r}\t{u}" for r, u in enumerate(user_ids)]
    atomic_write(os.path.join(out, "users.tsv"), "\n".join(lines) + "\n")
    lines = ["row\titem_id\ttext"] + [f"{r}\t{i}\t{texts[i]}" for r, i in enumerate(item_ids)]
    atomic_write(os.path.join(out, "items.tsv"), "\n".join(lines) + "\n")
    tr, va, te = ["user_id\titem_id\ttimestamp"], ["user_id\titem_id\ttimestamp"], ["user_id\titem_id\ttimestamp"]
    for u in user_ids:
        train, valid, test = split[u]
        tr += [f"{u}\t{i}\t{ts}" for i, ts in train]
        va.append(f"{u}\t{valid[0]}\t{valid[1]}")
        te.append(f"{u}\t{test[0]}\t{test[1]}")
    for name, lines in (("train.tsv", tr), ("valid.tsv", va), ("test.tsv", te)):
        atomic_write(os.path.join(out, name), "\n".join(lines) + "\n")
    meta = {"corpus": "ml-100k", "n_users": len(user_ids), "n_items": len(item_ids),
            "n_train": len(tr) - 1, "n_valid": len(va) - 1, "n_test": len(te) - 1}
    atomic_write(os.path.join(out, "meta.json"), json.dumps(meta, indent=1) + "\n")
    return meta


def build_user_text(history, texts, n_tokens, max_len):
    """Most recent up-to-20 items, oldest first, joined with ' ; '; drop the oldest while longer than max_len."""
    items = history[-MAX_HISTORY:]
    while True:
        text = " ; ".join(texts[i] for i in items)
        if len(items) <= 1 or n_tokens(text) <= max_len:
            return items, text
        items = items[1:]


def token_counter(tok):
    """Token count of a text with [CLS] / [SEP] and no truncation (the user-text rule's measure), for tokenizer `tok`."""
    def n_tokens(text):
        return len(tok(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])
    return n_tokens


def eval_users(split, user_ids, row_of, texts, n_tokens, max_len, which, cold=None):
    """The valid or test users of section 4: per user the kept history items, the user text, the target row and
    the excluded rows (valid: train history -> valid item; test: train + valid -> test item). With `cold` (the
    cold item rows, section 3) only users whose target is cold, with the cold items left out of their histories.
    Returns four lists."""
    kept, utexts, targets, excluded = [], [], [], []
    for u in user_ids:
        train, valid, test = split[u]
        target = (test if which == "test" else valid)[0]
        if cold is not None and row_of[target] not in cold:
            continue
        hist = [i for i, _ in train]
        ex = {row_of[i] for i in hist}
        if which == "test":
            hist = hist + [valid[0]]
            ex.add(row_of[valid[0]])
        if cold is not None:
            hist = [i for i in hist if row_of[i] not in cold]
        k, text = build_user_text(hist, texts, n_tokens, max_len)
        kept.append(k)
        utexts.append(text)
        targets.append(row_of[target])
        excluded.append(ex)
    return kept, utexts, targets, excluded


def rank_metrics(scores, target_rows, excluded):
    """Rank of each target under the protocol's tie rule; returns per-user ranks (1-based)."""
    ranks = np.empty(len(target_rows), dtype=np.int64)
    n_items = scores.shape[1]
    rows = np.arange(n_items)
    for k, (s, t, ex) in enumerate(zip(scores, target_rows, excluded)):
        s = np.where(np.isnan(s), -np.inf, s)
        keep = np.ones(n_items, dtype=bool)
        keep[list(ex)] = False
        keep[t] = True
        st = s[t]
        ranks[k] = 1 + int(np.sum(keep & (s > st))) + int(np.sum(keep & (s == st) & (rows < t)))
    return ranks


def summarize(ranks):
    r = ranks.astype(np.float64)
    return {
        "Recall@10": float(np.mean(r <= 10)),
        "NDCG@10": float(np.mean(np.where(r <= 10, 1.0 / np.log2(r + 1), 0.0))),
        "MRR@10": float(np.mean(np.where(r <= 10, 1.0 / r, 0.0))),
        "Recall@50": float(np.mean(r <= 50)),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(REPO_ROOT, "corpora", "ml-100k"))
    ap.add_argument("--model", default=os.path.join(REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--out", default=None, help="folder for split files and user_text_{split}_{L}.tsv")
    ap.add_argument("--split", choices=("test", "valid", "both"), default="test")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    user_ids, item_ids, by_user, texts = load_corpus(args.corpus)
    split = split_loo(user_ids, item_ids, by_user)
    row_of = {i: r for r, i in enumerate(item_ids)}
    if args.out:
        meta = write_split(args.out, user_ids, item_ids, texts, split)
        print(f"split files in {args.out}: {meta}")

    import torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(args.threads)
    model = SentenceTransformer(args.model, device="cpu")
    model.max_seq_length = args.max_len
    tok = model.tokenizer

    n_tokens = token_counter(tok)

    item_texts = [texts[i] for i in item_ids]
    item_emb = model.encode(item_texts, batch_size=args.batch_size, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False).astype(np.float32)

    # Popularity from train counts.
    pop = np.zeros(len(item_ids), dtype=np.float32)
    for u in user_ids:
        for i, _ in split[u][0]:
            pop[row_of[i]] += 1

    splits = ["valid", "test"] if args.split == "both" else [args.split]
    table = []
    for which in splits:
        kept, utexts, targets, excluded = eval_users(split, user_ids, row_of, texts, n_tokens, args.max_len, which)
        n_kept = [len(k) for k in kept]
        n_tok = [n_tokens(t) for t in utexts]
        if args.out:
            lines = ["user_id\tn_items\ttext"] + [f"{u}\t{k}\t{t}" for u, k, t in zip(user_ids, n_kept, utexts)]
            atomic_write(os.path.join(args.out, f"user_text_{which}_{args.max_len}.tsv"), "\n".join(lines) + "\n")
        user_emb = model.encode(utexts, batch_size=args.batch_size, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
        print(f"[{which}] user texts at L={args.max_len}: items kept {min(n_kept)}-{max(n_kept)} "
              f"(mean {np.mean(n_kept):.2f}), tokens mean {np.mean(n_tok):.1f}, max {max(n_tok)}")
        pop_scores = np.broadcast_to(pop, (len(user_ids), len(item_ids)))
        table.append((which, "popularity", summarize(rank_metrics(pop_scores, targets, excluded))))
        scores = user_emb @ item_emb.T
        table.append((which, f"frozen MiniLM user=enc(text) L={args.max_len}", summarize(rank_metrics(scores, targets, excluded))))

    cols = ["Recall@10", "NDCG@10", "MRR@10", "Recall@50"]
    print(f"\n| split | model | {' | '.join(cols)} |")
    print("| --- | --- |" + " --- |" * len(cols))
    for which, name, m in table:
        print(f"| {which} | {name} | " + " | ".join(f"{m[c]:.4f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
