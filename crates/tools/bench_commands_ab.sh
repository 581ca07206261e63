#!/usr/bin/env bash
# Alternated A/B runs of the durable-commands benchmark (issue #5): each VARIANT is
# LABEL=RECEPTION_BIN,BENCH_HTTP_BIN; every round runs every variant once, in order, on a
# fresh store with 64 connections (COMMANDS_ONLY=1), and prints one row per run with the
# load average before it. Client and server share both cores (no taskset), as in issue #5.
# Server and generator CPU per command are the processes' user + system time over the
# run (server: /proc/PID/stat; generator: bash's `time`) divided by the commands answered.
#
#   bash crates/tools/bench_commands_ab.sh ROUNDS SECONDS LABEL=SERVER,GEN [LABEL=SERVER,GEN ...]
#
# e.g. main=/tmp/main/reception,/tmp/main/bench_http branch=target/release/reception,target/release/examples/bench_http
set -euo pipefail

ROUNDS=${1:?rounds}
SECS=${2:?seconds}
shift 2
PORT=${PORT:-18090}
URL=http://127.0.0.1:$PORT
WORK=$(mktemp -d /tmp/cmdab.XXXXXX)
SERVER=

stop_server() {
    if [ -n "$SERVER" ]; then
        kill "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
        SERVER=
    fi
}
trap 'stop_server; rm -rf "$WORK"' EXIT

echo "# commands A/B $(date -u +%FT%TZ), $(nproc) cores, $SECS s per run, 64 connections"
echo
echo "| round | variant | commands/s | p50 | p99 | max | errors | server CPU/cmd | generator CPU/cmd | load average before |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"

# utime + stime of a process, in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
for round in $(seq 1 "$ROUNDS"); do
    for variant in "$@"; do
        label=${variant%%=*}
        bins=${variant#*=}
        bin=${bins%%,*}
        gen=${bins#*,}
        rm -rf "$WORK/data" && mkdir -p "$WORK/data"
        "$bin" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
        SERVER=$!
        for _ in $(seq 1 200); do
            if curl -sf "$URL/healthz" >/dev/null 2>&1 && [ -s "$WORK/data/admin.token" ]; then break; fi
            sleep 0.05
        done
        load=$(uptime | sed 's/.*load average: //')
        before=$(ticks "$SERVER")
        TIMEFORMAT='%U %S'
        { time COMMANDS_ONLY=1 "$gen" "$URL" "$WORK/data" 64 "$SECS" >"$WORK/out.md" 2>&1; } 2>"$WORK/time"
        after=$(ticks "$SERVER")
        row=$(grep '^| commands |' "$WORK/out.md")
        # | commands | ok | errors | per second | p50 | p99 | max |
        IFS='|' read -r _ _ ok errors rate p50 p99 max _ <<<"$row"
        read -r gu gs <"$WORK/time"
        per_cmd() { awk -v s="$1" -v n="$ok" 'BEGIN { if (n > 0) printf "%.0f µs", s * 1e6 / n; else print "-" }'; }
        srv=$(per_cmd "$(awk -v a="$before" -v b="$after" -v hz="$HZ" 'BEGIN { print (b - a) / hz }')")
        gcpu=$(per_cmd "$(awk -v u="$gu" -v s="$gs" 'BEGIN { print u + s }')")
        echo "| $round | $label |$rate |$p50 |$p99 |$max |$errors | $srv | $gcpu | $load |"
        stop_server
    done
done
