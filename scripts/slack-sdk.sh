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

target="${CARGO_TARGET_DIR:-$HOME/.cache/echo/target}"
server="${ECHO_SERVER:-}"
if [[ -z "$server" ]]; then
  for candidate in "$target/debug/echo-server" "$target/release/echo-server"; do
    if [[ -x "$candidate" ]]; then
      server="$candidate"
      break
    fi
  done
fi
[[ -n "$server" && -x "$server" ]] || die "no echo-server binary in $target/{debug,release} (build it: cargo build -p echo-server, or set ECHO_SERVER)"
command -v python3 >/dev/null || die "python3 is not installed"
command -v curl >/dev/null || die "curl is not installed"

venv="${ECHO_VENV:-$HOME/.cache/echo/venv}"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import slack_sdk, slack_bolt' 2>/dev/null; then
  python3 -m venv "$venv" || die "cannot create a virtual environment (on Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'slack-sdk>=3.33,<4' 'slack-bolt>=1.21,<2'
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
data_dir="$(mktemp -d "${TMPDIR:-/tmp}/echo-slack-sdk.XXXXXX")"
log="$data_dir/server.log"
server_pid=""

cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ "$status" != 0 ]]; then
    tail -n 40 "$log" >&2 || true
  fi
  rm -rf "$data_dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "slack-sdk: starting $server up --port $port" >&2
# The bolt app listens on 127.0.0.1, and its events must be delivered promptly.
ECHO_MESSAGES__NOTIFICATIONS__DELIVERY_POLL_MS=100 \
  "$server" up --data-dir "$data_dir" --port "$port" >"$log" 2>&1 &
server_pid=$!

url="http://127.0.0.1:$port"
ready=0
for _ in $(seq 1 300); do
  kill -0 "$server_pid" 2>/dev/null || die "echo-server exited before becoming ready"
  if curl -fsS -o /dev/null --max-time 2 "$url/readyz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.2
done
[[ "$ready" == 1 ]] || die "echo-server did not answer $url/readyz within 60 s"

echo "slack-sdk: running tests/slack-sdk against $url" >&2
ECHO_URL="$url" "$venv/bin/python" tests/slack-sdk/test_slack_sdk.py -v
