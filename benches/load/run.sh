#!/usr/bin/env bash
# Load test: 100,000 cases imported (real dataset texts when ../shared/datasets is there), then
# 32 concurrent connections from wrk on loopback against GET /v1/search, POST /v1/triage and
# POST /v1/cases, each in two modes:
#   closed  every connection sends its next request as soon as the last is answered: the
#           most the server takes (p99 is then ≈ 32 / throughput, whatever the service time);
#   paced   every connection waits a random think time (exponential, mean 28 ms) between
#           requests, so the 32 offer ~1,000 req/s: latency at that load. Creates are also
#           paced at means of 40 ms (~750 req/s offered) and 64 ms (~500 req/s).
# Two request mixes for triage and creates:
#   real    complaints of the data sets, of every length, none created twice (cases.lua);
#   four    four complaints of ~110 characters, numbered, over and over (triage.lua): as
#           creates, each is a near duplicate in one ever-growing group complaint and half
#           raise a safety or external-complaint alert: the worst case for the links.
# Needs wrk (Debian: apt-get install wrk). Usage: bash benches/load/run.sh [cases] [seconds]
# (TOUSU_BIN=path/to/tousu measures another build than this checkout's release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100000}
SECS=${2:-20}
PORT=18089
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
if curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; then
  echo "port $PORT is taken by another server: stop it first"
  exit 1
fi
DATA=$(mktemp -d /tmp/tousu-load.XXXXXX)
# TOUSU_BIN runs another build (to compare two commits on the same machine, alternating).
BIN=${TOUSU_BIN:-./target/release/tousu}
[ -n "${TOUSU_BIN:-}" ] || cargo build --release --quiet
python3 benches/load/make_cases.py "$N" > "$DATA/cases.jsonl"
python3 benches/load/make_cases.py 64000 --bodies > "$DATA/bodies.txt"
"$BIN" import "$DATA/cases.jsonl" --data-dir "$DATA/db" 2>&1 | grep imported
"$BIN" serve --data-dir "$DATA/db" --bind "127.0.0.1:$PORT" 2>"$DATA/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.2; done

# run NAME SCRIPT PATH THINK_MS (empty: closed loop). Each run of creates from cases.lua takes
# bodies of its own: 16,000 (8,000 a wrk thread, more than 20 s sends), from 64,000 texts that
# are all different. Each run starts once the last one's work is done (the index has caught up
# with the store, and 5 s more for merges): a closed loop leaves a backlog that would
# otherwise be charged to the run after it.
START=0
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
stored() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk '/^tousu_cases / {print $2}'; }
run() {
  if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "the server exited; the end of its log:"
    tail -n 40 "$DATA/serve.log"
    exit 1
  fi
  echo "== $1 ($([ -z "$4" ] && echo closed || echo "paced, think $4 ms"))"
  local ticks cases
  ticks=$(cpu_ticks)
  cases=$(stored)
  TOUSU_START=$START TOUSU_SHARE=8000 \
  TOUSU_BODIES="$DATA/bodies.txt" TOUSU_THINK_MS=$4 TOUSU_PATH=$3 \
    wrk -t2 -c32 -d"${SECS}s" --latency -s "benches/load/$2" "http://127.0.0.1:$PORT" |
    grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|requests in"
  if [ "$2 $3" = "cases.lua /v1/cases" ]; then START=$((START + 16000)); fi
  until curl -sf "http://127.0.0.1:$PORT/metrics" | grep -q '^tousu_index_lag_versions 0$'; do
    sleep 0.5
  done
  sleep 5
  # The server's CPU time (request threads, writer, follower, merges) over the cases created.
  if [ "$3" = /v1/cases ]; then
    awk -v t=$(($(cpu_ticks) - ticks)) -v n=$(($(stored) - cases)) -v hz="$HZ" \
      'BEGIN { printf "server CPU per case created: %.2f ms\n", 1000 * t / hz / n }'
  fi
}
# Search first, on the 100,000 imported cases (one segment); once more after the creates, when
# it also sees the cases just created, in fresh, unmerged segments.
for think in "" 28; do run search search.lua "" "$think"; done
for think in "" 28; do run "triage, four" triage.lua /v1/triage "$think"; done
for think in "" 28; do run "triage, real" cases.lua /v1/triage "$think"; done
for think in "" 28 40 64; do run "cases, real" cases.lua /v1/cases "$think"; done
for think in "" 28; do run "cases, four" triage.lua /v1/cases "$think"; done
echo "cases stored: $(stored)"
run "search after the creates" search.lua "" 28
