#!/usr/bin/env bash
# Runs every benchmark of BENCHMARKS.md one after the other (never two at once, so they
# do not disturb each other) and keeps each one's output under OUT:
#   store.txt        event store (issue 2): group commit vs raw sled, replay, stream read
#   projections.txt  read side (issue 4): rebuild of 1M events, query p99, board lag
#   api.txt          HTTP API (issue 5): durable commands/s, board and cost queries/s
#   nats.txt         replication (issue 6): relay rate vs JetStream, replica lag
#
#   bash ops/bench-all.sh [OUT] [EVENTS]      # OUT default /tmp/bench-all, EVENTS 1000000
#
# Needs about 6 GB free under /tmp, wrk for the API part (bench_api.sh installs it with
# apt-get when missing) and, for the NATS part, nats-server on PATH (it starts
# a throw-away server on a free port; the system's server is never used). Run it on a
# quiet machine: `uptime` is printed before and after each part.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-/tmp/bench-all}
EVENTS=${2:-1000000}
T=${CARGO_TARGET_DIR:-target}
mkdir -p "$OUT"
SCRATCH=$(mktemp -d /tmp/bench-scratch.XXXXXX)
NATS_PID=
cleanup() {
    if [ -n "$NATS_PID" ]; then kill "$NATS_PID" 2>/dev/null || true; fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

load() { uptime | sed 's/.*load average/load average/'; }

echo "building release binaries and examples" >&2
cargo build --release -p reception --bin reception \
    -p reception-bench --example store_bench --example projections_bench --example nats_bench \
    -p reception-tools --example bench_http

part() { # part NAME: header with time and load
    echo "# $1 — $(date -u +%FT%TZ), $(nproc) cores, $(load)"
}

{
    part store
    "$T/release/examples/store_bench" "$SCRATCH/store" "$EVENTS"
    echo "after: $(load)"
} 2>&1 | tee "$OUT/store.txt"
rm -rf "$SCRATCH/store"

{
    part projections
    # 40,000 synthetic visits are about 1,000,000 events
    visits=$((EVENTS / 25))
    "$T/release/examples/projections_bench" "$visits" "$SCRATCH/read" 10
    echo "after: $(load)"
} 2>&1 | tee "$OUT/projections.txt"
rm -rf "$SCRATCH/read"

{
    part api
    bash crates/tools/bench_api.sh "$T/release/reception" "$T/release/examples/bench_http" 10
    echo "after: $(load)"
} 2>&1 | tee "$OUT/api.txt"

if command -v nats-server >/dev/null 2>&1; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    nats-server -a 127.0.0.1 -p "$port" -js -sd "$SCRATCH/js" >"$SCRATCH/nats.log" 2>&1 &
    NATS_PID=$!
    sleep 1
    {
        part nats
        "$T/release/examples/nats_bench" "nats://127.0.0.1:$port" "$SCRATCH/nats"
        echo "after: $(load)"
    } 2>&1 | tee "$OUT/nats.txt"
else
    echo "nats-server not on PATH: NATS part skipped" | tee "$OUT/nats.txt"
fi
echo "outputs in $OUT" >&2
