#!/usr/bin/env bash
# Where a request mix's time goes on a large store: serves a copy of the store `run.sh` kept
# (TOUSU_LOAD_STORE, default /tmp/tousu-load-store-1000000; run run.sh first), sends MIX from
# 32 connections in a closed loop for SECS seconds, and with PERF=1 records the server with
# `perf record -a -g` meanwhile (report: perf report -i /tmp/tousu-MIX.perf --pid PID
# --no-children --sort symbol, PID as printed; PERF_CALLGRAPH="--call-graph dwarf,16384"
# for whole call stacks); THINK_MS=28 paces each connection instead (pace.lua: ~1,000 req/s
# offered); ROUNDS=2 sends it twice.
# MIX is one of
#   triage   POST /v1/triage with the data sets' complaints (cases.lua)
#   cases    POST /v1/cases with the same complaints: creates (stored, indexed, followed)
#   search   GET /v1/search with the load's queries, facets counted (search.lua)
#   similar  GET /v1/cases/{id}/similar for 600 cases the searches find (similar.lua)
#   bash benches/load/profile.sh MIX [seconds]
# (TOUSU_BIN=path/to/tousu measures another build than this checkout's release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
MIX=${1:?usage: profile.sh triage|cases|search|similar [seconds]}
SECS=${2:-20}
STORE=${TOUSU_LOAD_STORE:-/tmp/tousu-load-store-1000000}
BIN=${TOUSU_BIN:-./target/release/tousu}
[ -n "${TOUSU_BIN:-}" ] || cargo build --release --quiet
[ -f "$STORE/complete" ] || { echo "no store in $STORE: run benches/load/run.sh first"; exit 1; }
PORT=18089
INTAKE=load-intake-key-0123456789
LEAD=load-supervisor-key-0123456789
case "$MIX" in
  triage|cases) KEY=$INTAKE; SCRIPT=cases.lua; export TOUSU_PATH=/v1/$MIX TOUSU_START=0 \
            TOUSU_SHARE=8000 TOUSU_BODIES="$STORE/bodies.txt" ;;
  search|similar) KEY=$LEAD; SCRIPT=$MIX.lua ;;
  *) echo "MIX is triage, cases, search or similar, not $MIX"; exit 1 ;;
esac
DATA=$(mktemp -d /tmp/tousu-profile.XXXXXX)
. benches/load/serve.sh
copy_store
serve "desk:intake:$INTAKE,lead:supervisor:$LEAD:*"
if [ "$MIX" = similar ]; then
  export TOUSU_IDS="$DATA/ids.txt"
  case_ids "$LEAD" "$TOUSU_IDS"
fi
sleep 5
# ROUNDS=N sends the mix N times to the same server (the second round finds the caches the
# first filled: triage reads the same neighbours again); perf records the first.
for round in $(seq "${ROUNDS:-1}"); do
  TOUSU_THINK_MS=${THINK_MS:-} wrk -t2 -c32 -d"${SECS}s" --latency -H "Authorization: Bearer $KEY" \
    -s "benches/load/$SCRIPT" "http://127.0.0.1:$PORT" > "$DATA/wrk.out" &
  WRK=$!
  if [ "${PERF:-0}" = 1 ] && [ "$round" = 1 ]; then
    sleep $((SECS / 5))
    # The whole machine, not `-p`: a profile attached to the server's threads missed threads
    # started later (tantivy starts its indexing threads anew at every commit, and a thread
    # per merge): an import's showed no merges. Report the server alone with --pid.
    echo "perf: the server is pid $SERVER"
    perf record -a -F 299 ${PERF_CALLGRAPH:--g} -o "/tmp/tousu-$MIX.perf" -- sleep $((SECS / 2)) 2>/dev/null
  fi
  wait $WRK
  echo "round $round:"
  grep -E "Requests/sec|50%|99%" "$DATA/wrk.out"
done
# The server's memory after (its configuration may come from TOUSU_CONFIG, e.g. a larger
# memory.recent_cases).
awk '/^Rss:/ { rss = $2 } /^Anonymous:/ { anon = $2 }
  END { printf "server memory: RSS %.0f MiB: anonymous %.0f MiB\n", rss / 1024, anon / 1024 }' \
  "/proc/$SERVER/smaps_rollup"
