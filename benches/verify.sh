#!/usr/bin/env bash
# Verification throughput: 1,000 unique well-formed keys of 10 providers,
# verified against a loopback mock that answers every request after 20 ms.
# Prints leakhound's median wall time over RUNS runs and the number of
# requests the mock received per run (target: <= 3 s and exactly 1,000).
# The mock is a threaded Python HTTP server; every provider's official URL
# is redirected to it with --verify-endpoint (loopback only, as in tests).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
work="$(mktemp -d)"
trap 'kill "$mock_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/leakhound"

python3 - "$work/keys" <<'PY'
import os, secrets, string, sys
out = sys.argv[1]; os.makedirs(out)
alnum = string.ascii_letters + string.digits
url = alnum + "-_"
def r(al, n):
    while True:
        s = "".join(secrets.choice(al) for _ in range(n))
        low = s.lower()
        if any(w in low for w in ("your", "xxxx", "example", "sample", "dummy", "insert", "replace", "placeholder")): continue
        if any(s[i] == s[i+1] == s[i+2] for i in range(len(s) - 2)): continue
        if any(ord(s[i]) + 1 == ord(s[i+1]) == ord(s[i+2]) - 1 for i in range(len(s) - 2)): continue
        return s
gens = [
    lambda: "sk-proj-" + r(url, 74) + "T3BlbkFJ" + r(url, 74),
    lambda: "sk-ant-api03-" + r(url, 93) + "AA",
    lambda: "AIzaSy" + r(url, 33),
    lambda: "gsk_" + r(alnum, 20) + "WGdyb3FY" + r(alnum, 24),
    lambda: "xai-" + r(alnum, 80),
    lambda: "sk-or-v1-" + r("0123456789abcdef", 64),
    lambda: "hf_" + r(string.ascii_letters, 34),
    lambda: "r8_" + r(alnum, 37),
    lambda: "csk-" + r(string.ascii_lowercase + string.digits, 48),
    lambda: "ghp_" + r(alnum, 36),
]
for i in range(1000):
    with open(f"{out}/k{i:04d}.env", "w") as f:
        f.write(f"KEY={gens[i % len(gens)]()}\n")
PY

cat > "$work/mock.py" <<'PY'
import sys, time, threading
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
count = 0; lock = threading.Lock()
class H(BaseHTTPRequestHandler):
    def answer(self):
        global count
        with lock: count += 1
        n = int(self.headers.get("Content-Length") or 0)
        if n: self.rfile.read(n)
        time.sleep(0.020)
        body = b'{"ok":true,"data":[]}'
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    do_GET = do_POST = answer
    def log_message(self, *a): pass
class S(ThreadingHTTPServer):
    daemon_threads = True; request_queue_size = 256
srv = S(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
def report():
    for line in sys.stdin:
        with lock: print(count, flush=True); 
threading.Thread(target=report, daemon=True).start()
srv.serve_forever()
PY
coproc MOCK { exec python3 "$work/mock.py"; }
mock_pid=$MOCK_PID
read -r port <&"${MOCK[0]}"
endpoints=()
for p in openai anthropic google groq xai openrouter huggingface replicate cerebras github; do
  endpoints+=(--verify-endpoint "$p=http://127.0.0.1:$port")
done

times=(); counts=(); last=0
for i in $(seq "$RUNS"); do
  start=$(date +%s%N)
  "$bin" scan --verify "${endpoints[@]}" --format json "$work/keys" > "$work/out.json" || true
  end=$(date +%s%N)
  times+=("$(( (end - start) / 1000000 ))")
  echo >&"${MOCK[1]}"; read -r total <&"${MOCK[0]}"
  counts+=("$(( total - last ))"); last=$total
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
found=$(python3 -c "import json;d=json.load(open('$work/out.json'));print(len(d['findings']), d['stats']['verification'])")
echo "verification benchmark: 1000 unique keys, 10 providers, mock latency 20 ms, $(nproc) cores"
echo "  wall times (ms): ${times[*]}"
echo "  median: $(awk "BEGIN {printf \"%.2f\", $median/1000}") s (target <= 3 s)"
echo "  requests per run: ${counts[*]} (target: exactly 1000)"
echo "  last run: findings, verification stats = $found"
