#!/usr/bin/env bash
# Fetches the ml-100k RecBole atomic files (from the PyPI wheel recbole==1.2.1) into corpora/ml-100k/.
#
# Usage: corpora/fetch_ml100k.sh
# Result: <repo>/corpora/ml-100k/ (git-ignored) holding ml-100k.inter, .item, .user, .kg, .link exactly as
# shipped in recbole/dataset_example/ml-100k/ (the files PROTOCOL.md section 1 names).
# Idempotent: exits 0 at once when ml-100k.inter and ml-100k.item are already in place.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/Scripts/fetch_recbole_corpus.sh"
fetch_recbole_corpus ml-100k "recbole==1.2.1" "recbole/dataset_example/ml-100k/"
