#!/usr/bin/env python3
"""An order-free copy of a RecBole atomic corpus: each user's timestamps permuted among their own interactions.

A proxy for corpora without a meaningful order (the joint-realignment issue's held-out books corpus): the split's
held-out items become random members of each user's set, so sequence models lose the order and item-kNN does not.

    python3 Scripts/shuffle_order.py corpora/ml-100k runs/shuf/ml-100k-shuf --seed 7
"""
import argparse, collections, os, random, shutil

ap = argparse.ArgumentParser()
ap.add_argument('src'); ap.add_argument('dst'); ap.add_argument('--seed', type=int, default=7)
a = ap.parse_args()
src_name, dst_name = os.path.basename(a.src.rstrip('/')), os.path.basename(a.dst.rstrip('/'))
os.makedirs(a.dst, exist_ok=True)
lines = open(f'{a.src}/{src_name}.inter').read().splitlines()
header, rows = lines[0].split('\t'), [l.split('\t') for l in lines[1:]]
u_col, t_col = header.index('user_id:token'), header.index('timestamp:float')
by_user = collections.defaultdict(list)
for i, r in enumerate(rows): by_user[r[u_col]].append(i)
rng = random.Random(a.seed)
for idx in by_user.values():   # users in file order, so a seed gives one corpus
    ts = [rows[i][t_col] for i in idx]; rng.shuffle(ts)
    for i, t in zip(idx, ts): rows[i][t_col] = t
with open(f'{a.dst}/{dst_name}.inter', 'w') as f:
    f.write(lines[0] + '\n'); f.writelines('\t'.join(r) + '\n' for r in rows)
for ext in ('item', 'user'):
    if os.path.exists(f'{a.src}/{src_name}.{ext}'): shutil.copy(f'{a.src}/{src_name}.{ext}', f'{a.dst}/{dst_name}.{ext}')
print(f'{a.dst}: {len(rows)} interactions, {len(by_user)} users, timestamps permuted within each user (seed {a.seed})')
