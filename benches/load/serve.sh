# Sourced by run.sh and profile.sh: serves the store copied into "$DATA/db" on $PORT.
#   serve KEYS   starts "$BIN serve" with TOUSU_API_KEYS=KEYS (its log in "$DATA/serve.log"),
#                stops it and removes $DATA on exit, and returns once /readyz answers. Sets
#                SERVER (its pid).
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
