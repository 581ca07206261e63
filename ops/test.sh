#!/usr/bin/env bash
# Runs every test of the workspace. Installs nats-server when it is not on PATH
# (the NATS tests start their own server on a free port) and Debian's chromium when
# /usr/bin/chromium is missing (the dashboard's browser tests drive it headless; a
# CJK font so that its Chinese screenshots are legible).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nats-server >/dev/null 2>&1; then
    echo "nats-server not found; installing it with apt-get" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    $SUDO apt-get update -qq || true
    $SUDO apt-get install -y nats-server
fi

if [ ! -x /usr/bin/chromium ]; then
    echo "chromium not found; installing it with apt-get" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    $SUDO apt-get update -qq || true
    $SUDO apt-get install -y chromium fonts-wqy-microhei
fi

cargo test --workspace "$@"
