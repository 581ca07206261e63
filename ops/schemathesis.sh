#!/usr/bin/env bash
# Runs schemathesis (PyPI) against the published document, /api/openapi.json, of a real
# server on a demo store, once per role with that role's token:
#   bash ops/schemathesis.sh                     # full run: every role, 50 examples per operation
#   EXAMPLES=3 ROLES="admin analyst" EXCLUDE=positive_data_acceptance bash ops/schemathesis.sh
# (the short pass CI runs). Settings in ops/schemathesis/schemathesis.toml; reports in
# target/schemathesis/<role>/. Exits non-zero when any role's run finds a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/reception}
EXAMPLES=${EXAMPLES:-50}
ROLES=${ROLES:-admin requester reception approver finance frontdesk auditor analyst}
EXCLUDE=${EXCLUDE:-}
VISITS=${VISITS:-200}
command -v st >/dev/null 2>&1 || python3 -m pip install -q schemathesis >&2
[ -x "$BIN" ] || cargo build --release -p reception
DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" demo --visits "$VISITS" --data-dir "$DATA" >/dev/null
# wrong tokens are part of the run (schemathesis checks that they are refused): the
# per-address limit on failed authentication is lifted for it
"$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --auth-failures-per-minute 100000000 \
    >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 200); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.3
done
BASE="http://127.0.0.1:$PORT"
ADMIN=$(cat "$DATA/admin.token")
token_for() {
    if [ "$1" = admin ]; then echo "$ADMIN"; return; fi
    curl -fsS -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
        -d "{\"user\": \"schemathesis.$1\", \"role\": \"$1\"}" "$BASE/api/v1/tokens" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
FAILED=0
for ROLE in $ROLES; do
    TOKEN=$(token_for "$ROLE")
    OUT="target/schemathesis/$ROLE"
    mkdir -p "$OUT"
    ARGS=(run "$BASE/api/openapi.json" -H "Authorization: Bearer $TOKEN" --checks all
          --max-examples "$EXAMPLES" --workers 2 --seed 1 --report junit --report-dir "$OUT")
    [ -n "$EXCLUDE" ] && ARGS+=(--exclude-checks "$EXCLUDE")
    if (cd ops/schemathesis && st "${ARGS[@]}") >"$OUT/run.txt" 2>&1; then
        STATUS=ok
    else
        STATUS=FAILED
        FAILED=1
    fi
    echo "schemathesis $ROLE: $STATUS; $(grep -E '^ *[0-9]+ generated' "$OUT/run.txt" | tr -s ' ')"
    grep -E '❌|🚫' "$OUT/run.txt" | sed 's/^/    /' || true
done
if [ "$(grep -c ' 5[0-9][0-9] ' "$DATA/server.log" || true)" != 0 ]; then
    echo "the server logged 5xx answers" >&2
fi
exit $FAILED
