#!/usr/bin/env bash
# SIGKILL a full fine-tuning run again and again while it writes best/ and state/, and check after every kill
# that best/ loads, state/ resumes and the next run removes the dead run's temporary folders.
#
# The run (all-MiniLM-L6-v2, full fine-tuning on corpora/fixtures/ml-tiny, validation and a checkpoint every
# step: best/ is 88 MB, state/ 259 MB) is killed in turn: a fresh start into the same folder as soon as
# `best.tmp-PID/` appears (its first validation always rewrites best/), a resumed run as soon as
# `state.tmp-PID/` appears, or a resumed run at a random moment; the folders present at the kill say which
# write it hit. After each kill: `recalign encode --model OUT/best` must succeed and OUT/state must hold
# state.json; the next run, resumed from it, must have removed the dead one's `*.tmp-PID` / `*.old-PID`
# folders before its first step. A last resumed run trains for 20 s and must stop cleanly.
# Usage: Scripts/kill_test.sh [KILLS (default 24)] [BINARY]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
KILLS=${1:-24}
BIN=${2:-.build/release/recalign}
WORK=$(mktemp -d)
OUT=$WORK/run
trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
printf 'Toy Story (1995) Animation\nHeat (1995) Action\n' > "$WORK/texts.txt"
ARGS=(train --corpus corpora/fixtures/ml-tiny --method full --batch-size 8 --eval-every 1 --epochs 30 --out "$OUT")

in_best=0; in_state=0; elsewhere=0; resumes=0; failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

start() {   # start [fresh] [extra args]: the run (resumed when a state exists, unless fresh) in the background; sets PID
    local fresh=""
    if [ "${1:-}" = fresh ]; then fresh=1; shift; fi
    if [ -z "$fresh" ] && [ -f "$OUT/state/state.json" ]; then
        "$BIN" "${ARGS[@]}" --resume "$OUT/state" "$@" > "$WORK/log" 2>&1 &
        resumes=$((resumes + 1))
    else
        "$BIN" "${ARGS[@]}" "$@" > "$WORK/log" 2>&1 &
    fi
    PID=$!
}

wait_for() {   # wait_for GLOB SECONDS: true once a path matching GLOB exists
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        compgen -G "$1" > /dev/null && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.02
    done
    return 1
}

for ((k = 1; k <= KILLS; k++)); do
    case $((k % 3)) in
        0) start fresh; dead=$PID; wait_for "$OUT/best.tmp-$dead" 60 || true; sleep "0.$((RANDOM % 5))" ;;
        1) start; dead=$PID; wait_for "$OUT/state.tmp-$dead" 60 || true; sleep "0.$((RANDOM % 5))" ;;
        2) start; dead=$PID; sleep "$((2 + RANDOM % 6)).$((RANDOM % 10))" ;;
    esac
    if ! kill -0 "$dead" 2>/dev/null; then echo "run $k ended before the kill:"; tail -3 "$WORK/log"; break; fi
    where=$(ls "$OUT" 2>/dev/null | grep -E "\.(tmp|old)-$dead$" | tr '\n' ' ' || true)
    kill -9 "$dead"; wait "$dead" 2>/dev/null || true
    case "$where" in
        *best.*) in_best=$((in_best + 1)) ;;
        *state.*) in_state=$((in_state + 1)) ;;
        *) elsewhere=$((elsewhere + 1)) ;;
    esac
    if [ -d "$OUT/best" ]; then
        "$BIN" encode --model "$OUT/best" --input "$WORK/texts.txt" --output "$WORK/e.npy" > /dev/null 2>&1 \
            || fail "kill $k (during: ${where:-no write}): best/ does not load"
    fi
    [ -d "$OUT/state" ] && { [ -f "$OUT/state/state.json" ] || fail "kill $k: state/ has no state.json"; }
    echo "kill $k: pid $dead during: ${where:-no checkpoint write}; best/ $( [ -d "$OUT/best" ] && echo loads || echo 'not yet'), state/ $( [ -d "$OUT/state" ] && echo present || echo 'not yet')"
    # The next start must clean the dead run's folders before its first step.
    start
    next=$PID
    for _ in $(seq 600); do grep -q "training pairs" "$WORK/log" 2>/dev/null && break; sleep 0.05; done
    sleep 0.5
    if ls "$OUT" | grep -qE "\.(tmp|old)-$dead$"; then
        fail "kill $k: the next run left $(ls "$OUT" | grep -E "\.(tmp|old)-$dead$" | tr '\n' ' ')"
    fi
    kill -9 "$next" 2>/dev/null; wait "$next" 2>/dev/null || true
    # That kill is not counted; its own temporary folders are cleaned by the following start.
done

start --max-minutes 0.33
wait "$PID" || fail "the final resumed run failed: $(tail -2 "$WORK/log")"
left=$(ls "$OUT" | grep -E "\.(tmp|old)-" || true)
[ -z "$left" ] || fail "folders left after the final run: $left"
"$BIN" encode --model "$OUT/best" --input "$WORK/texts.txt" --output "$WORK/e.npy" > /dev/null 2>&1 || fail "final best/ does not load"
grep -qE '"reason":"(completed|time budget)"' "$WORK/log" || fail "the final run did not stop cleanly: $(tail -1 "$WORK/log")"
echo "kills: $((in_best + in_state + elsewhere)) (during a best/ write $in_best, during a state/ write $in_state, elsewhere $elsewhere); resumes $resumes; failures $failures"
[ "$failures" -eq 0 ]
