#!/usr/bin/env bash
# Runs every test of the workspace. Installs nats-server when it is not on PATH
# (the NATS tests start their own server on a free port).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nats-server >/dev/null 2>&1; then
    echo "nats-server not found; installing it with apt-get" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    $SUDO apt-get update -qq || true
    $SUDO apt-get install -y nats-server
fi

if ! command -v strace >/dev/null 2>&1; then
    # the durability test watches the store's fdatasyncs from outside
    echo "strace not found; installing it with apt-get" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    $SUDO apt-get install -y strace || { $SUDO apt-get update -qq && $SUDO apt-get install -y strace; }
fi

cargo test --workspace "$@"
