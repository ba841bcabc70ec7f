# Starting a throwaway Echo for the scripts that test against one (sourced, not run).
#
#   echo_server_binary            sets $server: $ECHO_SERVER, else the debug, else the release
#                                 build in $CARGO_TARGET_DIR
#   start_echo_server LOG ARGS…   runs `$server ARGS…` in the background with its output in LOG,
#                                 stops it when the script exits (showing LOG's tail on failure),
#                                 and waits until it answers /readyz on $port (set it first);
#                                 sets $url. Prefix environment for the server with `env VAR=…`
#                                 in ARGS' place: `start_echo_server log env A=1 "$server" up …`.
#   free_port                     prints a free TCP port of 127.0.0.1
#
# The caller defines die() and may set ECHO_READY_SECONDS (default 60).

echo_server_binary() {
  local target="${CARGO_TARGET_DIR:-$HOME/.cache/echo/target}" candidate
  server="${ECHO_SERVER:-}"
  if [[ -z "$server" ]]; then
    for candidate in "$target/debug/echo-server" "$target/release/echo-server"; do
      if [[ -x "$candidate" ]]; then
        server="$candidate"
        break
      fi
    done
  fi
  [[ -n "$server" && -x "$server" ]] ||
    die "no echo-server binary in $target/{debug,release} (build it: cargo build -p echo-server, or set ECHO_SERVER)"
  command -v curl >/dev/null || die "curl is not installed"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

_echo_server_pid=""
_echo_server_log=""

_stop_echo_server() {
  local status=$?
  if [[ -n "$_echo_server_pid" ]] && kill -0 "$_echo_server_pid" 2>/dev/null; then
    kill -TERM "$_echo_server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$_echo_server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$_echo_server_pid" 2>/dev/null || true
    wait "$_echo_server_pid" 2>/dev/null || true
  fi
  if [[ "$status" != 0 && -f "$_echo_server_log" ]]; then
    echo "last lines of the server log ($_echo_server_log):" >&2
    tail -n 40 "$_echo_server_log" >&2 || true
  fi
  # The caller's own clean-up, if it has one.
  if declare -F cleanup >/dev/null; then
    cleanup
  fi
  exit "$status"
}

start_echo_server() {
  _echo_server_log="$1"
  shift
  trap _stop_echo_server EXIT
  trap 'exit 130' INT TERM
  "$@" >"$_echo_server_log" 2>&1 &
  _echo_server_pid=$!
  url="http://127.0.0.1:$port"
  local seconds="${ECHO_READY_SECONDS:-60}" _
  for _ in $(seq 1 $((seconds * 5))); do
    kill -0 "$_echo_server_pid" 2>/dev/null || die "echo-server exited before becoming ready"
    if curl -fsS -o /dev/null --max-time 2 "$url/readyz" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  die "echo-server did not answer $url/readyz within $seconds s"
}
