#!/usr/bin/env bash
# CPU time of `recalign rerank` while its LLM server takes SECONDS (default 30) to answer: a stub
# OpenAI-compatible server on 127.0.0.1 sleeps, then answers; /usr/bin/time reports the client's user + sys
# seconds. An event-loop client waits for free (the URLSession path it replaced busy-polled ~half a core).
# Usage: Scripts/http_idle_cpu.sh [SECONDS] [BINARY] [extra rerank options]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DELAY=${1:-30}
BIN=${2:-.build/release/recalign}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$PORT" "$DELAY" <<'PY' &
import http.server, json, sys, time
port, delay = int(sys.argv[1]), float(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(delay)
        body = json.dumps({"choices": [{"message": {"role": "assistant", "content": "[]"}}]}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
sleep 0.5
OUT=$(mktemp -d)
/usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KB" \
    "$BIN" rerank --candidates corpora/fixtures/candidates_small.jsonl --limit 1 --server "http://127.0.0.1:$PORT" \
    --model stub --timeout $((DELAY + 30)) --retries 0 --out "$OUT/r.jsonl" "${@:3}" > /dev/null 2> "$OUT/err" || true
grep -E "^wall" "$OUT/err"
rm -rf "$OUT"
