#!/usr/bin/env bash
# Schemathesis against the served OpenAPI document: starts `tousu serve` (the debug binary the
# test step built) on a temporary data dir with the tiny fixture model and one key per role,
# seeds a few cases, then runs schemathesis once per role with every check of
# .ci/schemathesis.toml (no server error; every status, content type, header and body as the
# document says; schema-invalid requests refused; schema-valid ones taken where OpenAPI can say
# what is taken; auth not ignored; …). Fails on any failure. A few minutes at most.
#
# `GET /v1/alerts/stream` is left out: a Server-Sent Events stream never ends by itself, so
# each request would run until the client's timeout; the stream is tested in
# tests/integration/api.rs and tests/integration/watch.rs.
#
# Env: TOUSU_BIN (default target/debug/tousu, under CARGO_TARGET_DIR when set), SCHEMATHESIS_MAX_EXAMPLES (default 30),
# SCHEMATHESIS_SEED (default 1; fixed so that a run can be replayed), SCHEMATHESIS_VENV (the
# venv the pinned tools are installed in when missing; default under ~/.cache, so that it is
# made once per machine), SCHEMATHESIS_REPORT_DIR (keep the JUnit reports and the cassettes of
# every request there; by default they go with the temporary data dir). The keys are made up
# for the run, so nothing in the output is sanitised: a failure prints the exact request.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
VALIDATOR_VERSION=0.9.0
BIN=${TOUSU_BIN:-${CARGO_TARGET_DIR:-target}/debug/tousu}
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-30}
SEED=${SCHEMATHESIS_SEED:-1}
VENV=${SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tousu/schemathesis-$ST_VERSION}
started=$(date +%s)

# Schemathesis and an OpenAPI validator, pinned, in a venv of their own.
st="$VENV/bin/schemathesis"
if [[ "$("$st" --version 2>/dev/null)" != *" $ST_VERSION"* ]] ||
    ! "$VENV/bin/python" -c "import openapi_spec_validator" 2>/dev/null; then
    echo "installing schemathesis $ST_VERSION and openapi-spec-validator $VALIDATOR_VERSION in $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "schemathesis==$ST_VERSION" "openapi-spec-validator==$VALIDATOR_VERSION"
fi
"$st" --version

# The test step has built it; a no-op then, and a build when run on its own.
[[ -n "${TOUSU_BIN:-}" ]] || cargo build --locked --bin tousu

work=$(mktemp -d)
server=""
stop() {
    if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
        kill -TERM "$server"
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop EXIT

intake_key=st-intake-$RANDOM$RANDOM-0123456789
handler_key=st-handler-$RANDOM$RANDOM-0123456789
supervisor_key=st-supervisor-$RANDOM$RANDOM-0123456789
analyst_key=st-analyst-$RANDOM$RANDOM-0123456789
admin_key=st-admin-$RANDOM$RANDOM-0123456789
# The handler works one department (cases of the others are 404 to it); the supervisor all.
department=网络运维中心
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

TOUSU_API_KEYS="st-intake:intake:$intake_key,st-handler:handler:$handler_key:$department,st-supervisor:supervisor:$supervisor_key:*,st-analyst:analyst:$analyst_key,st-admin:admin:$admin_key" \
    RUST_LOG=${RUST_LOG:-warn} \
    "$BIN" serve --bind "127.0.0.1:$port" --data-dir "$work/data" \
    --models-dir tests/fixtures --profile model >"$work/server.log" 2>&1 &
server=$!

ready=""
for _ in $(seq 120); do
    if curl -sf "$base/readyz" >/dev/null; then
        ready=yes
        break
    fi
    kill -0 "$server" 2>/dev/null || break
    sleep 0.5
done
if [[ -z "$ready" ]]; then
    echo "tousu serve did not become ready:" >&2
    cat "$work/server.log" >&2
    exit 1
fi

# The document as served is valid OpenAPI 3.1.
curl -sf "$base/v1/openapi.json" -o "$work/openapi.json"
"$VENV/bin/python" -c '
import json, sys
from openapi_spec_validator import validate
spec = json.load(open(sys.argv[1]))
assert spec["openapi"].startswith("3.1."), spec["openapi"]
validate(spec)
print("the served OpenAPI document is valid OpenAPI", spec["openapi"])
' "$work/openapi.json"

# A few cases, so that reads, similar cases, suggestions, search, queues, KPIs and trends have
# something to show; their ids seed the `{id}` path parameter. The supervisor takes the first
# through the whole process to 办结 (its reply resolves it, for suggestions) and dispatches the
# second to the handler, who signs for it; the others wait to be dispatched. The status moves
# only by these steps (a PATCH of `status` is refused).
ids=()
for text in "小区宽带断网三天了，报修多次没人处理，要求赔偿" "宽带网速特别慢，装维师傅约好上门却没来" \
    "话费被多扣了二十元，要求退还" "营业厅工作人员态度很差，排队等了很久" "小区手机信号很差，打电话经常掉线"; do
    body=$(printf '{"text":"%s","channel":"web","contact":"1391234%04d"}' "$text" "${#ids[@]}")
    id=$(curl -sf -X POST "$base/v1/cases" -H "Authorization: Bearer $intake_key" \
        -H 'Content-Type: application/json' -d "$body" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
    ids+=("$id")
done
step() {
    curl -sf -o /dev/null -X POST "$base/v1/cases/$1/actions" -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' -d "$3"
}
for action in "{\"action\":\"assign\",\"department\":\"$department\"}" '{"action":"accept"}' \
    '{"action":"reply","reply":"已派人上门修复，网络运维中心致歉","remedy":"维修"}' \
    '{"action":"follow_up","result":"满意","solved":true}' '{"action":"close","root_cause":"网络故障"}'; do
    step "${ids[0]}" "$supervisor_key" "$action"
done
step "${ids[1]}" "$supervisor_key" "{\"action\":\"assign\",\"department\":\"$department\",\"handler\":\"st-handler\"}"
step "${ids[1]}" "$handler_key" '{"action":"accept"}'

reports=${SCHEMATHESIS_REPORT_DIR:-$work/reports}
config="$work/schemathesis.toml"
{
    cat .ci/schemathesis.toml
    echo
    echo '[dictionaries.case_ids]'
    printf 'values = [%s]\n' "$(printf '"%s",' "${ids[@]}" | sed 's/,$//')"
    echo '[parameters]'
    echo '"path.id" = { dictionary = "case_ids", probability = 0.7 }'
} >"$config"

failed=()
for role in intake handler supervisor analyst admin; do
    key_var=${role}_key
    echo "== schemathesis as $role"
    if ! "$st" --config-file "$config" run "$base/v1/openapi.json" \
        -H "Authorization: Bearer ${!key_var}" \
        --exclude-path /v1/alerts/stream \
        --max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers 1 --request-timeout 10 \
        --no-color --output-sanitize false \
        --report junit,vcr --report-dir "$reports/$role"; then
        failed+=("$role")
    fi
done

if grep -q "panicked" "$work/server.log"; then
    echo "the server panicked:" >&2
    grep -A3 "panicked" "$work/server.log" >&2
    failed+=(panic)
fi
echo "schemathesis took $(($(date +%s) - started)) s"
if ((${#failed[@]})); then
    echo "schemathesis failed: ${failed[*]}" >&2
    exit 1
fi
