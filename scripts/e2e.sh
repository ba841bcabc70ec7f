#!/usr/bin/env bash
# Runs the web app's end-to-end suite against a freshly started Echo.
#
# Builds and installs nothing: it expects `frontend/dist` (npm --prefix frontend run build),
# `frontend/node_modules` (npm --prefix frontend ci) and an echo-server binary in
# $CARGO_TARGET_DIR (cargo build -p echo-server). It starts `echo-server up` on a free port with a
# temporary data directory, waits for /readyz, runs the suite, stops the server and exits with the
# suite's status.
#
#   ECHO_SERVER=path   the server binary (default: $CARGO_TARGET_DIR/debug/echo-server, else release)
#   CHROMIUM_PATH=path the browser (default: /usr/bin/chromium)
#   E2E_KEEP_DATA=1    keep the temporary data directory
#   --scaled           run the core flows (every file but the scale test) against `echo-server cluster` (two gateways, two
#                      message-service replicas, PostgreSQL, Redis and S3; databases dropped after)
#   extra arguments are passed to `node --test` (e.g. --test-name-pattern=reactions)
set -euo pipefail

mode=up
if [[ "${1:-}" == --scaled ]]; then
  mode=cluster
  shift
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() {
  echo "e2e: $*" >&2
  exit 2
}

# shellcheck source=lib/echo-server.sh
source scripts/lib/echo-server.sh
echo_server_binary

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  die "Chromium is missing: $chromium is not an executable. Install it (e.g. apt-get install -y chromium) or set CHROMIUM_PATH. The end-to-end suite cannot run without a browser."
fi
export CHROMIUM_PATH="$chromium"

command -v node >/dev/null || die "node is not installed"
[[ -f frontend/dist/index.html ]] || die "frontend/dist is not built (npm --prefix frontend run build)"
[[ -d frontend/node_modules/playwright-core ]] || die "frontend/node_modules is missing (npm --prefix frontend ci)"

port="$(free_port)"
data_dir="$(mktemp -d "${TMPDIR:-/tmp}/echo-e2e.XXXXXX")"
mkdir -p frontend/e2e/artifacts
cleanup() {
  if [[ "${E2E_KEEP_DATA:-0}" == 1 ]]; then
    echo "e2e: data kept in $data_dir" >&2
  else
    rm -rf "$data_dir"
  fi
}

if [[ "$mode" == cluster ]]; then
  command=(cluster --temporary --name "echo_e2e_$$" --port "$port")
else
  command=(up --port "$port")
fi
log="frontend/e2e/artifacts/server.log"
echo "e2e: starting $server ${command[*]} (data in $data_dir, log in $log)" >&2
# The suite seeds a 10,000-message channel through the API as fast as it can: far beyond what a
# person sends, so the per-user and per-channel budgets are lifted for this server only.
ECHO_READY_SECONDS=120 start_echo_server "$log" env ECHO_GATEWAY__RATE_LIMITS__PER_USER__REQUESTS=1000000 \
  ECHO_GATEWAY__RATE_LIMITS__POSTS_PER_CHANNEL__REQUESTS=1000000 \
  "$server" --data-dir "$data_dir" "${command[@]}"

echo "e2e: running the suite in frontend/e2e against $url" >&2
set +e
suite=(e2e/)
if [[ "$mode" == cluster ]]; then
  # The core flows. The 10,000-message scroll test measures the browser's rendering, which the
  # topology behind it does not change, and on two cores the cluster's own background work (the
  # AI service embedding the seeded messages) would be measured instead.
  suite=($(cd frontend && ls e2e/*.test.mjs | grep -v '/scale\.test\.mjs$'))
fi
(cd frontend && ECHO_URL="$url" node --test --test-concurrency=1 "$@" "${suite[@]}")
status=$?
set -e
exit "$status"
