#!/usr/bin/env bash
# Development loop: the Vite dev server (hot reload, http://localhost:5173) proxying the API and
# the WebSocket to `echo-server up` on :8080, and the server rebuilt and restarted whenever a Rust
# source, manifest or migration changes. Ctrl-C stops both.
#
#   DATA_DIR=dir   where the server keeps its data (default ./data)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
data_dir="${DATA_DIR:-./data}"
stamp="$(mktemp)"
server_pid=""
vite_pid=""

stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

cleanup() {
  stop_server
  [[ -n "$vite_pid" ]] && kill -TERM "$vite_pid" 2>/dev/null || true
  rm -f "$stamp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Build, then (re)start the server; a failed build leaves the previous server running.
restart_server() {
  touch "$stamp"
  if cargo build -p echo-server; then
    stop_server
    cargo run -q -p echo-server -- up --data-dir "$data_dir" --port 8080 &
    server_pid=$!
  else
    echo "dev: build failed; fix it and save again" >&2
  fi
}

changed_sources() {
  find Cargo.toml crates services echo-server \
    \( -name '*.rs' -o -name Cargo.toml -o -name '*.sql' \) -newer "$stamp" -print -quit 2>/dev/null
}

[[ -d frontend/node_modules ]] || npm --prefix frontend ci --no-audit --no-fund
npm --prefix frontend run dev &
vite_pid=$!

restart_server
echo "dev: web app with hot reload on http://localhost:5173 (API on :8080); watching Rust sources" >&2
while true; do
  sleep 1
  if [[ -n "$(changed_sources)" ]]; then
    echo "dev: sources changed, rebuilding the server" >&2
    restart_server
  fi
done
