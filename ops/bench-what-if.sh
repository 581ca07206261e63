#!/usr/bin/env bash
# Times the what-if simulation and the return-call report over HTTP on a demo store:
#   reception demo --visits 21000 --data-dir /tmp/d
#   bash ops/bench-what-if.sh /tmp/d [year] [runs]
# Starts a release server on the data dir (stop any other server on it first), proposes
# every level of the policy in force with its lunch and dinner caps cut by a fifth, and
# prints each run's wall time, the median and the worst.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?data dir with a demo store}
YEAR=${2:-2025}
RUNS=${3:-7}
BIN=target/release/reception
[ -x "$BIN" ] || cargo build --release -p reception
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" >/tmp/bench-what-if-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.5
done
TOKEN=$(cat "$DATA/admin.token")
BODY=$(curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/policy" |
    python3 -c '
import json, sys
book = json.load(sys.stdin)
levels = book["in_force"]["levels"]
for l in levels:
    for k in ("lunch_cap_fen", "dinner_cap_fen"):
        if l["meals"].get(k):
            l["meals"][k] = l["meals"][k] * 4 // 5
print(json.dumps({"year": int(sys.argv[1]), "policy": {"levels": levels}}))' "$YEAR")
time_of() {
    curl -fsS -o /tmp/bench-what-if-answer.json -w '%{time_total}\n' "$@"
}
report() {
    python3 -c '
import statistics, sys
t = [float(x) for x in sys.argv[2:]]
print(f"{sys.argv[1]}: runs {len(t)}, median {statistics.median(t)*1000:.0f} ms, worst {max(t)*1000:.0f} ms")' "$@"
}
W=()
for _ in $(seq 1 "$RUNS"); do
    W+=("$(time_of -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d "$BODY" "http://127.0.0.1:$PORT/api/v1/analysis/what-if")")
done
python3 -c '
import json
a = json.load(open("/tmp/bench-what-if-answer.json"))
print("what-if %s: %s visits, %s expenses judged, savings %s fen" % (a["year"], a["visits"], a["count"], a["savings_fen"]))'
report "what-if $YEAR" "${W[@]}"
R=()
for _ in $(seq 1 "$RUNS"); do
    R+=("$(time_of -H "Authorization: Bearer $TOKEN" \
        "http://127.0.0.1:$PORT/api/v1/reports/return-calls?year=$YEAR&by=month")")
done
report "return-call report $YEAR by month" "${R[@]}"
