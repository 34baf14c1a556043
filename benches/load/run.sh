#!/usr/bin/env bash
# Load test: 100,000 cases imported (real dataset texts when ../shared/datasets is there), then
# 32 concurrent connections from wrk on loopback against POST /v1/triage, POST /v1/cases and
# GET /v1/search, each target twice:
#   closed  every connection sends its next request as soon as the last is answered: the
#           most the server takes (p99 is then ≈ 32 / throughput, whatever the service time);
#   paced   every connection waits a random think time (exponential, mean 28 ms) between
#           requests, so the 32 offer ~1,000 req/s: latency at that load.
# Needs wrk (Debian: apt-get install wrk). Usage: bash benches/load/run.sh [cases] [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100000}
SECS=${2:-20}
DATA=$(mktemp -d /tmp/tousu-load.XXXXXX)
PORT=18089
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
cargo build --release --quiet
python3 benches/load/make_cases.py "$N" > "$DATA/cases.jsonl"
./target/release/tousu import "$DATA/cases.jsonl" --data-dir "$DATA/db" 2>&1 | grep imported
./target/release/tousu serve --data-dir "$DATA/db" --bind "127.0.0.1:$PORT" 2>"$DATA/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.2; done
for target in triage cases search; do
  for mode in closed paced; do
    echo "== $target ($mode)"
    think=""
    [ "$mode" = paced ] && think=28
    case $target in
      triage) TOUSU_THINK_MS=$think TOUSU_PATH=/v1/triage wrk -t2 -c32 -d"${SECS}s" --latency -s benches/load/triage.lua "http://127.0.0.1:$PORT" ;;
      cases) TOUSU_THINK_MS=$think TOUSU_PATH=/v1/cases wrk -t2 -c32 -d"${SECS}s" --latency -s benches/load/triage.lua "http://127.0.0.1:$PORT" ;;
      search) TOUSU_THINK_MS=$think wrk -t2 -c32 -d"${SECS}s" --latency -s benches/load/search.lua "http://127.0.0.1:$PORT" ;;
    esac | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|requests in"
  done
done
