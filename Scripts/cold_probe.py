#!/usr/bin/env python3
"""Cold-start probes on ml-100k's cold split (PROTOCOL.md section 3) with frozen MiniLM item vectors, numpy only.

Each probe scores every item for the cold validation (112) and test (121) users as cosine(mean of the last 5
visible history vectors, item) + W x a text-only term, and prints Recall@10 / NDCG@10 per setting:
  * recent:  the text popularity prior (softmax over item vectors, L2 lambda) fitted to each user's last 3 train
             interactions: RecAlign's `evaluate --prior --prior-recent 3`, refitted here with L-BFGS;
  * local:   the same prior fitted to the interactions near each user's last history timestamp (exponential kernel
             of tau days, past only or both sides): the popularity of the user's moment;
  * feats:   the recent prior over the item vector plus one-hot release year and genre flags;
  * knn:     item-kNN CF scores of the k text-nearest warm items of every item (softmax weights, temperature T),
             added to the cosine and the recent prior.
The item vectors come from RecAlign's embedding cache (`.cache/recalign/items-ml-100k-*.npy`, written by any
`train-head` or `evaluate` run).

Usage: python3 Scripts/cold_probe.py recent|local|feats|knn [--cache PATH]
"""
import argparse
import glob
import os
import re
import sys

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ml100k import cold_rows  # noqa: E402
from ref_frozen_eval import load_corpus, rank_metrics, split_loo, summarize  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAY = 86400.0


def fit_prior(X, counts, warm, lam):
    """w minimising -sum_i c_i log softmax(X_warm w)_i / sum c + lam |w|^2 (the prior's objective)."""
    c, Xw, total = counts[warm], X[warm], counts[warm].sum()

    def f(w):
        z = Xw @ w
        z -= z.max()
        p = np.exp(z)
        p /= p.sum()
        return -(c @ np.log(p + 1e-300)) / total + lam * (w @ w), -(Xw.T @ c - total * (Xw.T @ p)) / total + 2 * lam * w

    return minimize(f, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 500}).x


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("probe", choices=["recent", "local", "feats", "knn"])
    ap.add_argument("--cache", default=None)
    a = ap.parse_args()
    cache = a.cache or next(iter(sorted(glob.glob(os.path.join(ROOT, ".cache/recalign/items-ml-100k-[0-9a-f]*.npy")))), None)
    if cache is None:
        sys.exit("no item cache: run `recalign evaluate` once first")
    user_ids, item_ids, by_user, texts = load_corpus(os.path.join(ROOT, "corpora", "ml-100k"))
    split = split_loo(user_ids, item_ids, by_user)
    row_of = {i: r for r, i in enumerate(item_ids)}
    E = np.load(cache).astype(np.float64)
    if E.shape[0] != len(item_ids):
        sys.exit(f"{cache}: {E.shape[0]} rows, the corpus has {len(item_ids)} items")
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    n = len(item_ids)
    cold = set(cold_rows(n))
    warm = np.array([r for r in range(n) if r not in cold])
    train = {k: [(row_of[i], float(ts)) for i, ts in split[u][0] if row_of[i] not in cold] for k, u in enumerate(user_ids)}

    def users_for(which):
        out = []
        for k, u in enumerate(user_ids):
            tr, va, te = split[u]
            target = row_of[(te if which == "test" else va)[0]]
            if target not in cold:
                continue
            hist = [(row_of[i], float(ts)) for i, ts in tr]
            ex = {r for r, _ in hist}
            if which == "test":
                hist.append((row_of[va[0]], float(va[1])))
                ex.add(row_of[va[0]])
            out.append((k, [(r, t) for r, t in hist if r not in cold], target, ex))
        return out

    def evaluate(us, term):
        scores = []
        for k, hist, _, _ in us:
            v = E[[r for r, _ in hist[-5:]]].mean(0)
            scores.append(E @ (v / np.linalg.norm(v)) + term(k, hist))
        m = summarize(rank_metrics(np.array(scores), [u[2] for u in us], [u[3] for u in us]))
        return f"{m['Recall@10']:.4f} / {m['NDCG@10']:.4f}"

    V, T = users_for("valid"), users_for("test")

    def report(name, term):
        print(f"{name:44s} valid {evaluate(V, term)}  test {evaluate(T, term)}", flush=True)

    recent = np.zeros(n)
    for h in train.values():
        for r, _ in h[-3:]:
            recent[r] += 1
    report("no term", lambda k, h: 0)
    if a.probe == "recent":
        for lam in (1e-4, 1e-3):
            P = E @ fit_prior(E, recent, warm, lam)
            for W in (0.2, 0.5, 1, 2, 5):
                report(f"recent-3 prior, lambda {lam}, W {W}", lambda k, h: W * P)
    elif a.probe == "local":
        inter = np.array([(r, t) for h in train.values() for r, t in h])
        rows, ts = inter[:, 0].astype(int), inter[:, 1]
        for tau in (7.0, 30.0):
            for past in (True, False):
                memo = {}

                def term(k, h, tau=tau, past=past, memo=memo):
                    key = round(h[-1][1] / (2 * DAY))  # one fit per two days of last-history time
                    if key not in memo:
                        d = (ts - h[-1][1]) / DAY
                        wt = np.where(d <= 0, np.exp(d / tau), 0.0) if past else np.exp(-np.abs(d) / tau)
                        memo[key] = E @ fit_prior(E, np.bincount(rows, weights=wt, minlength=n), warm, 1e-3)
                    return memo[key]
                for W in (0.2, 0.5, 1, 2):
                    report(f"local prior, tau {tau:g} d, {'past' if past else 'both sides'}, W {W}", lambda k, h: W * term(k, h))
    elif a.probe == "feats":
        years = [int(m.group(1)) if (m := re.search(r"\((\d{4})\)", texts[i])) else 0 for i in item_ids]
        Y = np.zeros((n, 11))
        for r, y in enumerate(years):
            Y[r, min(max(y - 1988, 0), 10)] = 1
        genres = [texts[i].split(")")[-1].split() for i in item_ids]
        names = sorted({g for gs in genres for g in gs})
        G = np.array([[1.0 if g in gs else 0.0 for g in names] for gs in genres])
        for name, X in (("vector+year", np.hstack([E, Y])), ("vector+year+genre", np.hstack([E, Y, G])), ("year+genre", np.hstack([Y, G]))):
            for lam in (1e-4, 1e-3):
                P = X @ fit_prior(X, recent, warm, lam)
                for W in (0.5, 1, 2):
                    report(f"{name} prior, lambda {lam}, W {W}", lambda k, h: W * P)
    else:
        R = np.zeros((len(user_ids), n))
        for k, h in train.items():
            for r, _ in h:
                R[k, r] = 1
        norm = np.sqrt(np.maximum(R.sum(0), 1))
        S = (R.T @ R) / norm[:, None] / norm[None, :]
        np.fill_diagonal(S, 0)
        Tw = (E @ E.T)[:, warm]
        Tw[warm, np.arange(len(warm))] = -np.inf  # an item is not its own neighbour
        P = E @ fit_prior(E, recent, warm, 1e-3)
        for kt in (5, 20):
            idx = np.argpartition(-Tw, kt, axis=1)[:, :kt]
            for temp in (0.05, 0.2):
                w = np.take_along_axis(Tw, idx, 1) / temp
                w = np.exp(w - w.max(1, keepdims=True))
                w /= w.sum(1, keepdims=True)

                def smoothed(h, idx=idx, w=w):
                    cf = S[[r for r, _ in h]].sum(0)[warm]
                    s = (cf[idx] * w).sum(1)
                    return s / (np.abs(s).max() + 1e-9)
                for beta in (1, 1 / 3):
                    for W in (0, 0.5, 2):
                        report(f"text-kNN CF, k {kt}, T {temp}, x{beta:.2g}, prior W {W}",
                               lambda k, h: beta * smoothed(h) + W * P)


if __name__ == "__main__":
    main()
