#!/usr/bin/env bash
# Runs Slack's official, unmodified Python clients (slack-sdk's WebClient and a stock slack-bolt
# app) against a freshly started Echo: tests/slack-sdk/test_slack_sdk.py.
#
# Makes a virtual environment in ~/.cache/echo/venv (once) with slack-sdk and slack-bolt from
# PyPI, expects an echo-server binary in $CARGO_TARGET_DIR (cargo build -p echo-server), starts
# `echo-server up` on a free port with a temporary data directory, waits for /readyz, runs the
# tests, stops the server and exits with the tests' status.
#
#   ECHO_SERVER=path   the server binary (default: $CARGO_TARGET_DIR/debug/echo-server, else release)
#   ECHO_VENV=dir      the virtual environment (default: ~/.cache/echo/venv)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() {
  echo "slack-sdk: $*" >&2
  exit 2
}

# shellcheck source=lib/echo-server.sh
source scripts/lib/echo-server.sh
echo_server_binary
command -v python3 >/dev/null || die "python3 is not installed"

venv="${ECHO_VENV:-$HOME/.cache/echo/venv}"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import slack_sdk, slack_bolt' 2>/dev/null; then
  python3 -m venv "$venv" || die "cannot create a virtual environment (on Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'slack-sdk>=3.33,<4' 'slack-bolt>=1.21,<2'
fi

port="$(free_port)"
data_dir="$(mktemp -d "${TMPDIR:-/tmp}/echo-slack-sdk.XXXXXX")"
cleanup() {
  rm -rf "$data_dir"
}
echo "slack-sdk: starting $server up --port $port" >&2
# The bolt app listens on 127.0.0.1, and its events must be delivered promptly.
start_echo_server "$data_dir/server.log" env ECHO_MESSAGES__NOTIFICATIONS__DELIVERY_POLL_MS=100 \
  "$server" up --data-dir "$data_dir" --port "$port"

echo "slack-sdk: running tests/slack-sdk against $url" >&2
ECHO_URL="$url" "$venv/bin/python" tests/slack-sdk/test_slack_sdk.py -v
