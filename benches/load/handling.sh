#!/usr/bin/env bash
# Handling at scale: N cases (default 1,000,000) of two years' history imported with their
# handling (benches/load/make_history.py: ~4 % open), then, against `tousu serve`:
#   queue    GET /v1/queues/department as a handler of one department, and
#            GET /v1/queues/overdue as a supervisor of all (50 cases a page, with every
#            queue's count);
#   kpis     GET /v1/kpis over the last year grouped by department, as the supervisor;
#   sweep    the deadline sweep's time over all open cases, its alerts raised (the server's
#            tousu_deadline_sweep_microseconds): the first, a minute after the start, raises
#            the crossings of the look-back window; the next ones only what crossed since.
# Each HTTP run: wrk closed loop for SECS seconds, once with 1 connection (one desk on an
# otherwise idle server: the query's own latency) and once with 4 (2 threads; four desks at
# once on these 2 cores, which wrk shares); latency percentiles from wrk --latency. Needs wrk. Usage: bash benches/load/handling.sh [cases] [secs]
# (TOUSU_BIN=path/to/tousu measures another build than this checkout's release build).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
SECS=${2:-20}
PORT=18090
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
DATA=$(mktemp -d /tmp/tousu-handling.XXXXXX)
BIN=${TOUSU_BIN:-./target/release/tousu}
[ -n "${TOUSU_BIN:-}" ] || cargo build --release --quiet
LEAD=bench-supervisor-key-0123456789
WANG=bench-handler-key-0123456789
python3 benches/load/make_history.py "$N" > "$DATA/history.jsonl"
start=$(date +%s)
"$BIN" import "$DATA/history.jsonl" --data-dir "$DATA/db" 2>&1 | grep imported
echo "import took $(($(date +%s) - start)) s"
TOUSU_API_KEYS="lead:supervisor:$LEAD:*,wang:handler:$WANG:网络运维中心" \
  TOUSU_LOG=info,tousu::service::views::deadline_watch=debug \
  "$BIN" serve --data-dir "$DATA/db" --bind "127.0.0.1:$PORT" 2>"$DATA/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
started=$(date +%s)
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do
  kill -0 "$SERVER" 2>/dev/null || { tail -n 20 "$DATA/serve.log"; exit 1; }
  sleep 0.5
done
echo "ready in $(($(date +%s) - started)) s (work view, bands, trends loaded)"
metric() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
echo "cases $(metric tousu_cases), open $(metric tousu_open_cases)"

run() { # NAME KEY PATH
  echo "== $1: GET $3"
  curl -sf -H "Authorization: Bearer $2" "http://127.0.0.1:$PORT$3" |
    python3 -c '
import json, sys
v = json.load(sys.stdin)
if "counts" in v:
    print("  total", v["total"], "counts", json.dumps(v["counts"]))
else:
    print("  volume", v["total"]["volume"], "groups", len(v["groups"]))'
  for c in 1 4; do
    echo "  -- $c connection(s)"
    wrk -t$((c > 1 ? 2 : 1)) -c$c -d"${SECS}s" --latency -H "Authorization: Bearer $2" \
      "http://127.0.0.1:$PORT$3" | grep -E "Latency|50%|90%|99%|Requests/sec"
  done
}
run "queue of a handler's department" "$WANG" "/v1/queues/department?limit=50"
run "queue: overdue, all departments" "$LEAD" "/v1/queues/overdue?limit=50"
TO=$(date -u +%Y-%m-%dT%H:%M:%SZ)
FROM=$(date -u -d '1 year ago' +%Y-%m-%dT%H:%M:%SZ)
run "KPIs over a year by department" "$LEAD" "/v1/kpis?from=$FROM&to=$TO&group_by=department"

# The follower sweeps a minute after it starts, then every minute.
sweep() {
  echo "== deadline sweep $(metric tousu_deadline_sweeps) over $(metric tousu_open_cases) open cases:" \
    "$(metric tousu_deadline_sweep_microseconds) µs, $(metric tousu_deadline_sweep_crossed) crossed"
}
until [ "$(metric tousu_deadline_sweeps)" -ge 1 ]; do sleep 2; done
sweep
seen=$(metric tousu_deadline_sweeps)
until [ "$(metric tousu_deadline_sweeps)" -ge $((seen + 1)) ]; do sleep 2; done
sweep
echo "== every sweep (the server's log):"
grep -a "deadline sweep" "$DATA/serve.log" | sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^/  /' || echo "  (none logged)"
echo "server CPU: $(awk '{print ($14 + $15) / 100}' "/proc/$SERVER/stat") s; RSS: $(awk '/VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$SERVER/status")"
