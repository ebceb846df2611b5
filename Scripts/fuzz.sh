#!/usr/bin/env bash
# Fuzzing: builds a libFuzzer target from Fuzz/ (swiftc -sanitize=fuzzer,address), replays its regression
# inputs, then fuzzes it for SECONDS from a corpus seeded with the repository's fixtures.
#
#   bash Scripts/fuzz.sh TARGET SECONDS [libFuzzer args...]    one target
#   bash Scripts/fuzz.sh all SECONDS [libFuzzer args...]       every target in turn
#
# Targets: safetensors npy tokenizer-files wordpiece corpus answer. Everything lands in .build-fuzz/
# (git-ignored): modules/ (the sources under test, built once per run of this script), TARGET/fuzzer,
# TARGET/corpus (kept between runs, so coverage accumulates), TARGET/artifacts (crash / leak / timeout
# inputs), TARGET/log. Checked builds (-O, not the package's -Ounchecked) so bounds violations trap;
# FUZZ_OPT=-Onone for a debug build. Exits non-zero on any crash, leak or sanitizer report, naming the
# saved input; a crash input worth keeping goes in Fuzz/regressions/TARGET/ (replayed before every run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

targets=(safetensors npy tokenizer-files wordpiece corpus answer)
[[ $# -ge 2 ]] || { echo "usage: $0 TARGET|all SECONDS [libFuzzer args...]   (targets: ${targets[*]})" >&2; exit 2; }
target=$1 seconds=$2
shift 2

out=${FUZZ_OUT:-.build-fuzz}
mods=$out/modules
opt=${FUZZ_OPT:--O}
flags=(-sanitize=fuzzer,address -parse-as-library "$opt" -swift-version 5 -use-ld=lld)
mkdir -p "$mods"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
# Swift's crash backtracer reads the dead process's memory, which ASan reports instead of the real trap.
export SWIFT_BACKTRACE=enable=no
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0}

# Library modules under test, in dependency order. RecAlignRerank is only AnswerParser.swift (the client and
# server code is not an input parser); RecAlignMetrics (the candidates schema it reads) has no BLAS.
declare -A module_sources=(
    [RecAlignFormats]="Sources/RecAlignFormats/*.swift"
    [RecAlignTokenizer]="Sources/RecAlignTokenizer/*.swift"
    [RecAlignData]="Sources/RecAlignData/*.swift"
    [RecAlignMetrics]="Sources/RecAlignMetrics/*.swift"
    [RecAlignRerank]="Sources/RecAlignRerank/AnswerParser.swift"
)
# Modules each target links, dependencies last.
declare -A target_modules=(
    [safetensors]="RecAlignFormats"
    [npy]="RecAlignFormats"
    [tokenizer-files]="RecAlignTokenizer"
    [wordpiece]="RecAlignTokenizer"
    [corpus]="RecAlignData RecAlignTokenizer RecAlignFormats"
    [answer]="RecAlignRerank RecAlignMetrics RecAlignData RecAlignTokenizer RecAlignFormats"
)
declare -A built=()

# Builds a static library and its .swiftmodule into $mods (once per run of this script).
build_module() {
    local m=$1
    [[ -n ${built[$m]:-} ]] && return
    case $m in   # dependencies first
        RecAlignData) build_module RecAlignFormats; build_module RecAlignTokenizer ;;
        RecAlignMetrics) build_module RecAlignFormats; build_module RecAlignData ;;
        RecAlignRerank) build_module RecAlignMetrics ;;
    esac
    # shellcheck disable=SC2086  # the glob is meant to expand
    swiftc "${flags[@]}" -module-name "$m" -wmo -emit-library -static -o "$mods/lib$m.a" \
        -emit-module -emit-module-path "$mods/$m.swiftmodule" -I "$mods" ${module_sources[$m]}
    built[$m]=1
}

# Seeds: the fixtures of the kind the target reads, copied into its corpus; files over 64 KB are cut
# into line-aligned 4 KB pieces so that every execution stays fast.
seed() {
    local dir=$1; shift
    local f
    for f in "$@"; do
        [[ -f $f ]] || continue
        local name; name=$(echo "$f" | tr '/' '_')
        if [[ $(stat -c %s "$f") -gt 65536 ]]; then
            split -C 4096 -d -a 3 "$f" "$dir/$name.part"
        else
            cp "$f" "$dir/$name"
        fi
    done
}

# The corpus target's first byte selects the file the rest becomes (see Fuzz/corpus.swift).
seed_corpus() {
    local dir=$1 f mode
    for f in Tests/RecAlignDataTests/Fixtures/*/* corpora/fixtures/ml-tiny/*; do
        case $f in
            *.inter) mode=0 ;; *.item) mode=1 ;; *.user) mode=2 ;; */u.data) mode=3 ;; */u.item) mode=4 ;;
            */u.user) mode=5 ;; */items.jsonl) mode=7 ;; *.jsonl) mode=6 ;; *) continue ;;
        esac
        local name; name=$(echo "$f" | tr '/' '_')
        { printf "\\x$(printf %02x $((mode | 16)))"; head -c 16384 "$f"; } > "$dir/$name"
        { printf "\\x$(printf %02x $((mode | 8)))"; head -c 16384 "$f"; } > "$dir/$name.skip"
    done
}

seed_target() {
    local t=$1 dir=$2
    shopt -s nullglob
    case $t in
        safetensors) seed "$dir" Tests/RecAlignFormatsTests/Fixtures/*.safetensors Tests/Fixtures/golden/peft_lora/*.safetensors ;;
        npy) seed "$dir" Tests/RecAlignFormatsTests/Fixtures/*.npy Tests/Fixtures/golden/*.npy ;;
        tokenizer-files) seed "$dir" Tests/Fixtures/tokenizer/vocab.txt Tests/Fixtures/tokenizer/tokenizer.json \
            Tests/Fixtures/tokenizer/tokenizer_config.json Tests/RecAlignFormatsTests/Fixtures/all-MiniLM-L6-v2/*.json ;;
        wordpiece) seed "$dir" Tests/Fixtures/golden/texts.json Tests/Fixtures/tokenizer/cases.json Tests/Fixtures/tokenizer/fuzz.json ;;
        corpus) seed_corpus "$dir" ;;
        answer) seed "$dir" corpora/fixtures/candidates_small.jsonl ;;
    esac
    seed "$dir" Fuzz/seeds/"$t"/*
    shopt -u nullglob
}

# Builds, replays the regressions, fuzzes; returns non-zero on any finding.
run_target() {
    local t=$1; shift
    [[ -n ${target_modules[$t]:-} ]] || { echo "fuzz: unknown target '$t' (targets: ${targets[*]})" >&2; return 2; }
    local dir=$out/$t m libs=()
    mkdir -p "$dir/corpus" "$dir/artifacts"
    local t0=$SECONDS
    for m in ${target_modules[$t]}; do build_module "$m"; libs+=(-l"$m"); done
    swiftc "${flags[@]}" -module-name "Fuzz_${t//-/_}" -I "$mods" -L "$mods" "Fuzz/$t.swift" Fuzz/FuzzSupport.swift \
        "${libs[@]}" -o "$dir/fuzzer"
    echo "fuzz $t: built in $((SECONDS - t0)) s"
    seed_target "$t" "$dir/corpus"

    local regressions=(Fuzz/regressions/"$t"/*)
    if [[ -e ${regressions[0]} ]]; then
        if ! "$dir/fuzzer" "${regressions[@]}" > "$dir/regressions.log" 2>&1; then
            tail -n 40 "$dir/regressions.log"
            echo "fuzz $t: a regression input fails again (log: $dir/regressions.log)"
            return 1
        fi
        echo "fuzz $t: ${#regressions[@]} regression inputs pass"
    fi

    local rc=0
    "$dir/fuzzer" "$dir/corpus" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$dir/artifacts/" "$@" > "$dir/log" 2>&1 || rc=$?
    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units|^Done [0-9]+ runs' "$dir/log" || true
    echo "fuzz $t: corpus $(find "$dir/corpus" -type f | wc -l) files"
    if [[ $rc -ne 0 ]]; then
        grep -E 'ERROR: |SUMMARY: |Fatal error|Test unit written to' "$dir/log" || tail -n 30 "$dir/log"
        echo "fuzz $t: FAILED (exit $rc); log: $dir/log"
        return 1
    fi
}

if [[ $target == all ]]; then
    failed=()
    for t in "${targets[@]}"; do run_target "$t" "$@" || failed+=("$t"); done
    [[ ${#failed[@]} -eq 0 ]] || { echo "fuzz: failed: ${failed[*]}"; exit 1; }
else
    run_target "$target" "$@"
fi
