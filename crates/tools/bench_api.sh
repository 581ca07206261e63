#!/usr/bin/env bash
# The API benchmark of benchmarks/api.md in one go: durable commands with the Rust load
# generator (bench_http), then board and cost queries with wrk, each once with client
# and server sharing both cores and once pinned apart with taskset (server on CPU 0,
# client on CPU 1). Prints the load average beside every figure.
#
#   cargo build --release -p reception --bin reception -p reception-tools --example bench_http
#   bash crates/tools/bench_api.sh [RECEPTION_BIN] [BENCH_HTTP_BIN] [SECONDS]
#
# Defaults: $CARGO_TARGET_DIR (or target)/release/{reception,examples/bench_http}, 10 s.
set -euo pipefail

T=${CARGO_TARGET_DIR:-target}
BIN=${1:-$T/release/reception}
LOAD=${2:-$T/release/examples/bench_http}
SECS=${3:-10}
PORT=${PORT:-18080}
URL=http://127.0.0.1:$PORT
WORK=$(mktemp -d /tmp/apibench.XXXXXX)
LUA=$(cd "$(dirname "$0")" && pwd)/wrk/bearer.lua
SERVER=

stop_server() {
    if [ -n "$SERVER" ]; then
        kill "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
        SERVER=
    fi
}
trap 'stop_server; rm -rf "$WORK"' EXIT

# start_server DATA_DIR [taskset CPU list]
start_server() {
    local data=$1 cpus=${2:-}
    if [ -n "$cpus" ]; then
        taskset -c "$cpus" "$BIN" serve --data-dir "$data" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
    else
        "$BIN" serve --data-dir "$data" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
    fi
    SERVER=$!
    for _ in $(seq 1 200); do
        if curl -sf "$URL/healthz" >/dev/null 2>&1 && [ -s "$data/admin.token" ]; then
            return 0
        fi
        sleep 0.05
    done
    echo "server did not start; log:" >&2
    cat "$WORK/server.log" >&2
    exit 3
}

analyst_token() {
    curl -sf -H "Authorization: Bearer $(cat "$1/admin.token")" \
        -d '{"user":"bench.wrk","role":"analyst"}' "$URL/api/v1/tokens" |
        sed -E 's/.*"token":"([^"]+)".*/\1/'
}

# wrk_run LABEL PATH [taskset CPU list]
wrk_run() {
    local label=$1 path=$2 cpus=${3:-}
    echo "### $label: GET $path ($(uptime | sed 's/.*load average/load average/'))"
    if [ -n "$cpus" ]; then
        TOKEN=$TOKEN taskset -c "$cpus" wrk -t1 -c64 -d"${SECS}s" --latency -s "$LUA" "$URL$path" | grep -E "Requests/sec|Latency|99%|50%|Non-2xx|Socket errors|requests in"
    else
        TOKEN=$TOKEN wrk -t2 -c64 -d"${SECS}s" --latency -s "$LUA" "$URL$path" | grep -E "Requests/sec|Latency|99%|50%|Non-2xx|Socket errors|requests in"
    fi
}

# the query phases need wrk (Debian's package; a fresh machine does not have it)
if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk not found: installing it (apt-get install -y wrk)" >&2
    if ! { apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1; }; }; then
        echo "could not install wrk; install it and rerun" >&2
        exit 2
    fi
fi

echo "# API benchmark $(date -u +%FT%TZ), $(nproc) cores, $SECS s per phase"
echo "binary: $BIN"

for mode in shared pinned; do
    if [ "$mode" = pinned ]; then srv=0 cli=1; else srv= cli=; fi
    echo
    echo "## commands, $mode cores (fresh store, 64 connections, bench_http)"
    rm -rf "$WORK/cmd" && mkdir -p "$WORK/cmd"
    start_server "$WORK/cmd" "$srv"
    echo "before: $(uptime | sed 's/.*load average/load average/')"
    if [ -n "$cli" ]; then
        COMMANDS_ONLY=1 taskset -c "$cli" "$LOAD" "$URL" "$WORK/cmd" 64 "$SECS" | sed '/^```json/,$d'
    else
        COMMANDS_ONLY=1 "$LOAD" "$URL" "$WORK/cmd" 64 "$SECS" | sed '/^```json/,$d'
    fi
    echo "after: $(uptime | sed 's/.*load average/load average/')"
    TOKEN=$(analyst_token "$WORK/cmd")
    wrk_run "whole board after the commands phase (every visit it filed is open)" "/api/v1/board" "$cli"
    wrk_run "board after the commands phase, first 50 visits" "/api/v1/board?limit=50" "$cli"
    stop_server
done

echo
echo "## queries on a demo store (reception demo --visits 300)"
"$BIN" demo --visits 300 --data-dir "$WORK/demo" >/dev/null
for mode in shared pinned; do
    if [ "$mode" = pinned ]; then srv=0 cli=1; else srv= cli=; fi
    start_server "$WORK/demo" "$srv"
    TOKEN=$(analyst_token "$WORK/demo")
    wrk_run "board, $mode cores" "/api/v1/board" "$cli"
    wrk_run "costs, $mode cores" "/api/v1/costs?year=$(date +%Y)&by=level" "$cli"
    wrk_run "404 fallback (HTTP stack ceiling), $mode cores" "/nothing" "$cli"
    stop_server
done
