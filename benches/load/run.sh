#!/usr/bin/env bash
# Load test at production size: N cases (default 1,000,000; real dataset texts, cycled, when
# ../shared/datasets is there) in the store, then 32 concurrent connections from wrk on
# loopback against GET /v1/search, GET /v1/cases/{id}/similar (600 cases the searches find),
# POST /v1/triage and POST /v1/cases, and the workbench's heaviest reads (a faceted, filtered search; a department's work queue; a year's KPIs), each
# in two modes:
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
# The imported store is kept (TOUSU_LOAD_STORE, default /tmp/tousu-load-store-N) and reused
# by later runs of the same size: each run works on a copy, as creates change it. Also
# printed: import speed, time to ready, the server's memory (anonymous and file-mapped, from
# /proc/PID/smaps_rollup) and the data directory's size per case; then every figure as one
# table.
# Needs wrk (Debian: apt-get install wrk). Usage: bash benches/load/run.sh [cases] [seconds]
# (TOUSU_BIN=path/to/tousu measures another build than this checkout's release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
SECS=${2:-20}
PORT=18089
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
if curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; then
  echo "port $PORT is taken by another server: stop it first"
  exit 1
fi
# TOUSU_BIN runs another build (to compare two commits on the same machine, alternating).
BIN=${TOUSU_BIN:-./target/release/tousu}
[ -n "${TOUSU_BIN:-}" ] || cargo build --release --quiet
STORE=${TOUSU_LOAD_STORE:-/tmp/tousu-load-store-$N}
if [ ! -f "$STORE/complete" ]; then
  rm -rf "$STORE"
  mkdir -p "$STORE"
  python3 benches/load/make_cases.py "$N" > "$STORE/cases.jsonl"
  python3 benches/load/make_cases.py 64000 --bodies > "$STORE/bodies.txt"
  start=$(date +%s.%N)
  "$BIN" import "$STORE/cases.jsonl" --data-dir "$STORE/db" 2>&1 | grep imported
  awk -v s="$start" -v e="$(date +%s.%N)" -v n="$N" \
    'BEGIN { printf "import\t%d cases in %.0f s: %.0f cases/s\n", n, e - s, n / (e - s) }' \
    > "$STORE/import.tsv"
  rm "$STORE/cases.jsonl"
  touch "$STORE/complete"
else
  echo "reusing the store of $N cases in $STORE (imported before)"
fi
DATA=$(mktemp -d /tmp/tousu-load.XXXXXX)
cut -f2 "$STORE/import.tsv" | tee "$DATA/facts.txt"
: > "$DATA/results.tsv"
INTAKE=load-intake-key-0123456789
LEAD=load-supervisor-key-0123456789
WANG=load-handler-key-0123456789
. benches/load/serve.sh
copy_store
started=$(date +%s.%N)
serve "desk:intake:$INTAKE,lead:supervisor:$LEAD:*,wang:handler:$WANG:网络运维中心"
awk -v s="$started" -v e="$(date +%s.%N)" \
  'BEGIN { printf "ready in %.1f s after `tousu serve`\n", e - s }' | tee -a "$DATA/facts.txt"

# run NAME SCRIPT PATH THINK_MS KEY (THINK_MS empty: closed loop). Each run of creates from
# cases.lua takes bodies of its own: 16,000 (8,000 a wrk thread, more than 20 s sends), from
# 64,000 texts that are all different. Each run starts once the last one's work is done (the
# index has caught up with the store, and 5 s more for merges): a closed loop leaves a backlog
# that would otherwise be charged to the run after it.
START=0
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
metric() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
run() {
  if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "the server exited; the end of its log:"
    tail -n 40 "$DATA/serve.log"
    exit 1
  fi
  local mode ticks cases
  mode=$([ -z "$4" ] && echo closed || echo "paced $4 ms")
  echo "== $1 ($mode)"
  ticks=$(cpu_ticks)
  cases=$(metric tousu_cases)
  TOUSU_START=$START TOUSU_SHARE=8000 \
  TOUSU_BODIES="$STORE/bodies.txt" TOUSU_THINK_MS=$4 TOUSU_PATH=$3 \
    wrk -t2 -c32 -d"${SECS}s" --latency -H "Authorization: Bearer $5" -s "benches/load/$2" \
    "http://127.0.0.1:$PORT" > "$DATA/wrk.out"
  grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|requests in" "$DATA/wrk.out"
  awk -v name="$1" -v mode="$mode" '
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = $2 }
    /^ +99%/ { p99 = $2 }
    /Non-2xx/ { bad = $NF }
    END { printf "%s\t%s\t%.0f req/s\tp50 %s\tp99 %s\t%s\n", name, mode, rps, p50, p99, bad ? bad " non-2xx" : "" }
  ' "$DATA/wrk.out" >> "$DATA/results.tsv"
  if [ "$2 $3" = "cases.lua /v1/cases" ]; then START=$((START + 16000)); fi
  until [ "$(metric tousu_index_lag_versions)" = 0 ]; do sleep 0.5; done
  sleep 5
  # The server's CPU time (request threads, writer, follower, merges) over the cases created.
  if [ "$3" = /v1/cases ]; then
    awk -v t=$(($(cpu_ticks) - ticks)) -v n=$(($(metric tousu_cases) - cases)) -v hz="$HZ" \
      'BEGIN { printf "server CPU per case created: %.2f ms\n", 1000 * t / hz / n }'
  fi
}
# The workbench's heaviest reads: a faceted search with filters (facet counts over every
# match), a handler's department queue with every queue's count, a year's KPIs by department.
FACETED='/v1/search?q=%E5%AE%BD%E5%B8%A6&grade=%E4%B8%A5%E9%87%8D,%E9%87%8D%E5%A4%A7&linked=repeat,duplicate,group&sort=newest'
TO=$(date -u +%Y-%m-%dT%H:%M:%SZ)
FROM=$(date -u -d '1 year ago' +%Y-%m-%dT%H:%M:%SZ)
KPIS="/v1/kpis?from=$FROM&to=$TO&group_by=department"
# Search first, on the imported cases (merged segments); once more after the creates, when
# it also sees the cases just created, in fresh, unmerged segments.
for think in "" 28; do run search search.lua "" "$think" "$LEAD"; done
for think in "" 28; do run "workbench: faceted search" get.lua "$FACETED" "$think" "$LEAD"; done
# Similar cases of 600 cases found by the load's searches (words of every kind, newest and
# best first).
export TOUSU_IDS="$DATA/ids.txt"
case_ids "$LEAD" "$TOUSU_IDS"
for think in "" 28; do run "similar cases" similar.lua "" "$think" "$LEAD"; done
for think in "" 28; do run "workbench: department queue" get.lua "/v1/queues/department?limit=50" "$think" "$WANG"; done
run "workbench: KPIs, a year by department" get.lua "$KPIS" "" "$LEAD"
for think in "" 28; do run "triage, four" triage.lua /v1/triage "$think" "$INTAKE"; done
for think in "" 28; do run "triage, real" cases.lua /v1/triage "$think" "$INTAKE"; done
for think in "" 28 40 64; do run "cases, real" cases.lua /v1/cases "$think" "$INTAKE"; done
for think in "" 28; do run "cases, four" triage.lua /v1/cases "$think" "$INTAKE"; done
echo "cases stored: $(metric tousu_cases)"
run "search after the creates" search.lua "" 28 "$LEAD"

# Memory: resident, split into anonymous (the service's own structures) and file-mapped (the
# index and SQLite pages the kernel holds); disk: the data directory per case stored.
awk '/^Rss:/ { rss = $2 } /^Anonymous:/ { anon = $2 }
  END { printf "server memory: RSS %.0f MiB: anonymous %.0f MiB, file-mapped %.0f MiB\n", rss / 1024, anon / 1024, (rss - anon) / 1024 }' \
  "/proc/$SERVER/smaps_rollup" >> "$DATA/facts.txt"
# (du counts a file once per call: the whole, then its parts, in two calls.)
{ du -sb "$DATA/db"; du -sb "$DATA/db/"*; } | awk -v n="$(metric tousu_cases)" '
  NR == 1 { printf "data directory: %.2f GB, %.2f KB a case (%d cases):", $1 / 1e9, $1 / n / 1e3, n; next }
  { sub(".*/", "", $2); printf " %s %.2f KB", $2, $1 / n / 1e3 }
  END { print "" }' >> "$DATA/facts.txt"
echo
echo "== $N cases, $(nproc) cores, ${SECS} s a run, 32 connections"
column -t -s $'\t' "$DATA/results.tsv"
cat "$DATA/facts.txt"
