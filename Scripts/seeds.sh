#!/usr/bin/env bash
# Runs one train-head recipe for 3 seeds and prints each seed's test metrics and their mean +- sd.
#
# Usage: Scripts/seeds.sh OUT_PREFIX [train-head options...]
#   e.g. Scripts/seeds.sh runs/tid --head seq --items text+id --setting warm ...
# Each seed's head goes to OUT_PREFIX-s<seed> (its log beside it, .log). SEEDS="42 1 2" by default; an
# existing head folder is reused (delete it to retrain). Compare the folders row by row, with paired bootstrap
# intervals, with `recalign evaluate --compare OUT_PREFIX-s42 ...`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ $# -ge 1 ]] || { echo "usage: Scripts/seeds.sh OUT_PREFIX [train-head options...]" >&2; exit 2; }
PREFIX=$1; shift
B=${RECALIGN:-.build/release/recalign}
SEEDS=${SEEDS:-"42 1 2"}
dirs=()
for s in $SEEDS; do
    d="$PREFIX-s$s"
    if [[ ! -f "$d/metrics.json" ]]; then
        mkdir -p "$(dirname "$d")"
        "$B" train-head "$@" --seed "$s" --out "$d" > "$d.log" 2>&1 || { echo "seed $s failed; see $d.log" >&2; exit 1; }
    fi
    dirs+=("$d")
done
python3 - "${dirs[@]}" <<'PY'
import json, statistics, sys
keys = [("Recall@10", "R@10"), ("NDCG@10", "NDCG@10"), ("Recall@50", "R@50")]
rows = []
for d in sys.argv[1:]:
    m = json.load(open(f"{d}/metrics.json"))["test"]
    rows.append(m)
    print(d, "  ".join(f"{label} {m[k]:.4f}" for k, label in keys))
def cell(k):
    v = [r[k] for r in rows]
    return f"{statistics.mean(v):.4f} ± {statistics.stdev(v) if len(v) > 1 else 0:.4f}"
print(f"mean ± sd over {len(rows)} seeds:", "  ".join(f"{label} {cell(k)}" for k, label in keys))
PY
