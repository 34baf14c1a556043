#!/usr/bin/env bash
# The server's CPU time a request, to compare two builds on a shared VM where throughput moves
# from run to run: serves a fresh copy of the store run.sh kept (TOUSU_LOAD_STORE, default
# /tmp/tousu-load-store-1000000), sends triage in a closed loop for 20 s, then creates paced at
# 40 ms for 20 s (cases.lua, the data sets' complaints), and prints for each the requests a
# second, the p99 and the server's CPU time (all its threads, from /proc/PID/stat) per request.
# Alternate the builds, a round each, several times:
#   TOUSU_BIN=path/to/tousu bash benches/load/cpu.sh [label]
# Each build needs a store whose index has its schema (TOUSU_LOAD_STORE=…, after `tousu
# reindex --data-dir STORE/db` with that build): an index of another schema is rebuilt at start,
# and its merges would be charged to the first round.
set -euo pipefail
cd "$(dirname "$0")/../.."
LABEL=${1:-build}
STORE=${TOUSU_LOAD_STORE:-/tmp/tousu-load-store-1000000}
BIN=${TOUSU_BIN:-./target/release/tousu}
[ -n "${TOUSU_BIN:-}" ] || cargo build --release --quiet
[ -f "$STORE/complete" ] || { echo "no store in $STORE: run benches/load/run.sh first"; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
PORT=18089
INTAKE=load-intake-key-0123456789
DATA=$(mktemp -d /tmp/tousu-cpu.XXXXXX)
. benches/load/serve.sh
copy_store
serve "desk:intake:$INTAKE"
sleep 5
HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
metric() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# measure NAME PATH THINK_MS START: one 20-s run; the server's CPU counted until the index has
# caught up (a create's indexing is part of its cost).
measure() {
  local t0 n
  t0=$(ticks)
  TOUSU_START=$4 TOUSU_SHARE=8000 TOUSU_BODIES="$STORE/bodies.txt" TOUSU_THINK_MS=$3 \
  TOUSU_PATH=$2 wrk -t2 -c32 -d20s --latency -H "Authorization: Bearer $INTAKE" \
    -s benches/load/cases.lua "http://127.0.0.1:$PORT" > "$DATA/wrk.out"
  until [ "$(metric tousu_index_lag_versions)" = 0 ]; do
    kill -0 "$SERVER" 2>/dev/null || { echo "the server exited:"; tail -n 20 "$DATA/serve.log"; exit 1; }
    sleep 0.5
  done
  # Answered requests only: failed ones (non-2xx) are printed, not counted.
  n=$(awk '/requests in/ { n = $1 } /Non-2xx/ { bad = $NF } END { print n - bad }' "$DATA/wrk.out")
  awk -v label="$LABEL" -v name="$1" -v t=$(($(ticks) - t0)) -v n="$n" -v hz="$HZ" '
    /Requests\/sec/ { rps = $2 }
    /^ +99%/ { p99 = $2 }
    /Non-2xx/ { bad = $NF }
    END { printf "%s\t%s\t%.0f req/s\tp99 %s\tserver CPU %.3f ms a request%s\n", label, name, rps, p99, 1000 * t / hz / n, bad ? "\t" bad " non-2xx" : "" }
  ' "$DATA/wrk.out"
  sleep 3
}
measure "triage, closed" /v1/triage "" 0
measure "creates, paced 40 ms" /v1/cases 40 16000
