# Sourced by run.sh and profile.sh: serves a copy of the store in "$STORE/db" on $PORT.
#   copy_store   copies it into "$DATA/db" and writes the copy out (before timing anything)
#   serve KEYS   starts "$BIN serve" with TOUSU_API_KEYS=KEYS (its log in "$DATA/serve.log"),
#                stops it and removes $DATA on exit, and returns once /readyz answers. Sets
#                SERVER (its pid).
#   case_ids KEY FILE   (below)
copy_store() {
  cp -a "$STORE/db" "$DATA/db"
  # Unsynced, the copy's gigabytes were still being written back when the server started, and
  # its first commits' fsyncs waited behind them (creates paced at 64 ms, the first 2 s after
  # start: p99 854 ms; 25 ms after a sync): no run is charged for the copy.
  sync
}

serve() {
  TOUSU_API_KEYS="$1" "$BIN" serve --data-dir "$DATA/db" --bind "127.0.0.1:$PORT" \
    2>"$DATA/serve.log" &
  SERVER=$!
  trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
  until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do
    kill -0 "$SERVER" 2>/dev/null || { tail -n 20 "$DATA/serve.log"; exit 1; }
    sleep 0.2
  done
}

#   case_ids KEY FILE   writes to FILE the numbers of 600 cases that the load's searches find
#                       (words of every kind, newest and best first), for similar.lua.
case_ids() {
  for q in 宽带 停车费 油烟 公积金 断网 发票; do
    for sort in relevance newest; do
      curl -sfG -H "Authorization: Bearer $1" "http://127.0.0.1:$PORT/v1/search" \
        --data-urlencode "q=$q" --data "sort=$sort&limit=50&facets=false"
      echo
    done
  done | python3 -c 'import json, sys
for line in sys.stdin:
    for h in json.loads(line)["hits"]:
        print(h["id"])' > "$2"
}
