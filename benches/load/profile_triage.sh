#!/usr/bin/env bash
# Where triage's time goes on a large store: serves a copy of the store `run.sh` kept
# (TOUSU_LOAD_STORE, default /tmp/tousu-load-store-1000000; run run.sh first), sends
# POST /v1/triage with the data sets' complaints from 32 connections in a closed loop for
# SECS seconds, and with PERF=1 records the server with `perf record -g` meanwhile
# (report: perf report -i /tmp/tousu-triage.perf --no-children --sort symbol).
#   bash benches/load/profile_triage.sh [seconds]
# (TOUSU_BIN=path/to/tousu measures another build than this checkout's release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-20}
STORE=${TOUSU_LOAD_STORE:-/tmp/tousu-load-store-1000000}
BIN=${TOUSU_BIN:-./target/release/tousu}
[ -n "${TOUSU_BIN:-}" ] || cargo build --release --quiet
[ -f "$STORE/complete" ] || { echo "no store in $STORE: run benches/load/run.sh first"; exit 1; }
PORT=18089
INTAKE=load-intake-key-0123456789
DATA=$(mktemp -d /tmp/tousu-profile.XXXXXX)
cp -a "$STORE/db" "$DATA/db"
. benches/load/serve.sh
serve "desk:intake:$INTAKE"
sleep 5
TOUSU_START=0 TOUSU_SHARE=8000 TOUSU_BODIES="$STORE/bodies.txt" TOUSU_THINK_MS= \
  TOUSU_PATH=/v1/triage wrk -t2 -c32 -d"${SECS}s" --latency \
  -H "Authorization: Bearer $INTAKE" -s benches/load/cases.lua "http://127.0.0.1:$PORT" \
  > "$DATA/wrk.out" &
WRK=$!
if [ "${PERF:-0}" = 1 ]; then
  sleep $((SECS / 5))
  perf record -F 299 -g -p "$SERVER" -o /tmp/tousu-triage.perf -- sleep $((SECS / 2)) 2>/dev/null
fi
wait $WRK
grep -E "Requests/sec|50%|99%" "$DATA/wrk.out"
