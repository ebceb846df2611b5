#!/usr/bin/env python3
"""Golden fixture of the text popularity prior (RecAlignRetrieval/TextPopularityPrior.swift) on ml-100k.

The prior is a softmax over item embeddings x_i (frozen all-MiniLM-L6-v2, sentence-transformers) fitted to the
setting's train counts c_i over its known items (warm: all; cold: the non-cold ones):
    minimise -(1/N) sum_i c_i log softmax(X w)_i + l2 |w|^2
solved here independently of the Swift code's Newton steps: torch L-BFGS (strong Wolfe) in float64. l2 is chosen
from the grid by 5-fold cross-validation over the known items (folds: positions in a SplitMix64 Fisher-Yates
shuffle of the known rows, seed 42, position k in fold k mod 5; each held-out item scored by its counts'
log-probability under the softmax over all known items). Also scores the protocol's test split with
score = cos(user text, item) + prior / 20 (the weight RecAlign uses), so the Swift pipeline can be compared
metric by metric.

Writes Tests/Fixtures/golden/text_prior_ml100k.json:
    {"grid": [...], "settings": {"warm"|"cold": {"l2", "cv": [held-out ll per grid entry], "prior": [1682 floats],
     "known": n, "interactions": N, "test": {"Recall@10", "NDCG@10", "MRR@10", "Recall@50", "users"}}}}

Usage (dev venv, offline): /work/venv/bin/python Scripts/make_prior_golden.py [--model ...] [--corpus ...] [--out ...]
"""

import argparse
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ml100k import cold_rows, fisher_yates  # noqa: E402
from ref_frozen_eval import eval_users, load_corpus, rank_metrics, split_loo, summarize, token_counter  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRID = [1e-2, 1e-3, 3e-4, 1e-4, 3e-5]
FOLDS = 5
WEIGHT = 1 / 20


def fit(x, counts, l2):
    """argmin_w -(1/N) sum c log softmax(xw) + l2 |w|^2 by L-BFGS in float64."""
    X = torch.tensor(x, dtype=torch.float64)
    c = torch.tensor(counts, dtype=torch.float64)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=2000, tolerance_grad=1e-12, tolerance_change=1e-15,
                            history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = -(c * torch.log_softmax(X @ w, 0)).sum() / c.sum() + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy()


def log_softmax(z):
    m = z.max()
    return z - (m + np.log(np.exp(z - m).sum()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(REPO_ROOT, "corpora", "ml-100k"))
    ap.add_argument("--model", default=os.path.join(REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "Tests", "Fixtures", "golden", "text_prior_ml100k.json"))
    args = ap.parse_args()

    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(2)
    user_ids, item_ids, by_user, texts = load_corpus(args.corpus)
    split = split_loo(user_ids, item_ids, by_user)
    row_of = {i: r for r, i in enumerate(item_ids)}
    cold = set(cold_rows(len(item_ids)))
    model = SentenceTransformer(args.model, device="cpu")
    model.max_seq_length = 128
    x = model.encode([texts[i] for i in item_ids], batch_size=64, normalize_embeddings=True,
                     convert_to_numpy=True).astype(np.float64)

    n_tokens = token_counter(model.tokenizer)

    out = {"grid": GRID, "folds": FOLDS, "weight": WEIGHT, "settings": {}}
    for setting in ("warm", "cold"):
        counts = np.zeros(len(item_ids))
        for u in user_ids:
            for i, _ in split[u][0]:
                if setting == "warm" or row_of[i] not in cold:
                    counts[row_of[i]] += 1
        known = np.array([r for r in range(len(item_ids)) if setting == "warm" or r not in cold])
        xk, ck = x[known], counts[known]
        order = fisher_yates(len(known), 42)
        cv = []
        for l2 in GRID:
            ll = 0.0
            for f in range(FOLDS):
                held = np.array(sorted(order[f::FOLDS]))
                keep = np.setdiff1d(np.arange(len(known)), held)
                lp = log_softmax(xk @ fit(xk[keep], ck[keep], l2))
                ll += float((ck[held] * lp[held]).sum())
            cv.append(ll / ck.sum())
        best = GRID[int(np.argmax(cv))]
        prior = x @ fit(xk, ck, best)

        _, utexts, targets, excluded = eval_users(split, user_ids, row_of, texts, n_tokens, 128, "test",
                                                  cold if setting == "cold" else None)
        users = model.encode(utexts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True).astype(np.float64)
        scores = (users @ x.T + WEIGHT * prior[None, :]).astype(np.float32)
        test = summarize(rank_metrics(scores, targets, excluded))
        test["users"] = len(targets)
        out["settings"][setting] = {"l2": best, "cv": cv, "known": int(len(known)), "interactions": int(ck.sum()),
                                    "prior": [round(float(p), 6) for p in prior], "test": test}
        print(f"{setting}: l2 {best:g}, cv {[round(v, 5) for v in cv]}, test {test}", flush=True)

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
        f.write("\n")
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
