#!/usr/bin/env python3
"""Fuses a head's exported towers with item-kNN: score = cos(u, i) + W * itemKNN(u, i), W chosen on validation.

item-kNN as `recalign evaluate` computes it (RecBole's ItemKNN: binary train matrix, cosine, each item's top 20
neighbours, a user's distinct visible history); ranks with the protocol's exclusions and ties. Inputs: the split
folder of `evaluate --write-split` and two `export --tuned HEAD --split valid|test` folders.

    python3 Scripts/knn_fusion.py runs/shuf/split runs/shuf/x-valid runs/shuf/x-test
"""
import csv, sys
import numpy as np

split, valid_dir, test_dir = sys.argv[1:4]
def pairs(p): return [(r[0], r[1]) for r in list(csv.reader(open(p), delimiter='\t'))[1:]]
def towers(d): return (np.load(f'{d}/users.npy'), np.load(f'{d}/items.npy'),
                       open(f'{d}/users.ids').read().split(), open(f'{d}/items.ids').read().split())
UV, IV, uids, iids = towers(valid_dir)
UT, IT, uids_t, iids_t = towers(test_dir)
assert (uids, iids) == (uids_t, iids_t), 'valid and test exports differ in users or items'
urow = {u: k for k, u in enumerate(uids)}; irow = {x: k for k, x in enumerate(iids)}
nU, nI = len(uids), len(iids)
R = np.zeros((nU, nI), np.float32)
for u, i in pairs(f'{split}/train.tsv'): R[urow[u], irow[i]] = 1
co = R.T @ R; np.fill_diagonal(co, 0)
norm = np.sqrt(R.sum(0))
sim = co / (norm[:, None] * norm[None, :] + 1e-6)
W = np.zeros_like(sim)
for i in range(nI):                      # column i of W: i's 20 most similar items (ties to the lower row)
    nz = np.nonzero(sim[i])[0]
    keep = nz[np.lexsort((nz, -sim[i][nz]))][:20]
    W[keep, i] = sim[i][keep]
vt, tt = np.full(nU, -1), np.full(nU, -1)
for u, i in pairs(f'{split}/valid.tsv'): vt[urow[u]] = irow[i]
for u, i in pairs(f'{split}/test.tsv'): tt[urow[u]] = irow[i]
seen_t = R.copy(); seen_t[np.arange(nU), vt] = 1     # test history: train + the validation item

def metrics(scores, seen, target):
    t = scores[np.arange(nU), target].copy()
    s = np.where(seen > 0, -np.inf, scores); s[np.arange(nU), target] = t
    rank = 1 + (s > t[:, None]).sum(1) + ((s == t[:, None]) & (np.arange(nI)[None, :] < target[:, None])).sum(1)
    return (rank <= 10).mean(), np.where(rank <= 10, 1 / np.log2(rank + 1), 0).mean(), (rank <= 50).mean()

cos_v, cos_t, knn_v, knn_t = UV @ IV.T, UT @ IT.T, R @ W, seen_t @ W
best = None
for w in [0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1]:
    v, t = metrics(cos_v + w * knn_v, R, vt), metrics(cos_t + w * knn_t, seen_t, tt)
    print(f'W {w:<5} valid R@10 {v[0]:.4f} NDCG@10 {v[1]:.4f} | test R@10 {t[0]:.4f} NDCG@10 {t[1]:.4f} R@50 {t[2]:.4f}')
    if best is None or v[:2] > best[1][:2]: best = (w, v, t)
print(f'chosen W {best[0]}: test R@10 {best[2][0]:.4f} NDCG@10 {best[2][1]:.4f} R@50 {best[2][2]:.4f}')
k = metrics(knn_t, seen_t, tt); h = metrics(cos_t, seen_t, tt)
print(f'head alone: test R@10 {h[0]:.4f} NDCG@10 {h[1]:.4f}; item-kNN alone: R@10 {k[0]:.4f} NDCG@10 {k[1]:.4f} R@50 {k[2]:.4f}')
