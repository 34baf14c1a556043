#!/usr/bin/env bash
# The workbench in a real browser: Debian's Chromium (installed with apt-get when missing, with
# the CJK fonts) driven by playwright-core from npm (pinned in tests/e2e/package-lock.json; it
# never downloads a browser), against `tousu serve` (the debug binary the tests built) on a
# temporary data dir with the fixture model. Screenshots go to target/e2e/.
#
# Env: TOUSU_BIN (default target/debug/tousu, under CARGO_TARGET_DIR when set), CHROMIUM
# (default /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$CHROMIUM" ]] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "Chromium or the CJK fonts are missing: as root, apt-get install -y chromium fonts-noto-cjk" >&2
        exit 1
    fi
    echo "installing chromium and fonts-noto-cjk"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
"$CHROMIUM" --version 2>/dev/null | grep -v "unexpected operator" || true

# The test step has built it; a no-op then, and a build when run on its own.
[[ -n "${TOUSU_BIN:-}" ]] || cargo build --locked --bin tousu

cd tests/e2e
npm ci --no-fund --no-audit --silent
CHROMIUM="$CHROMIUM" node --test --test-concurrency=1
