#!/usr/bin/env bash
# Runs schemathesis (from PyPI) over Echo's whole OpenAPI document against a freshly started Echo:
# no request may get a 5xx, and every response must match the document (status code, content
# type, headers, body schema).
#
# Makes a virtual environment in ~/.cache/echo/schemathesis-venv (once), expects an echo-server
# binary in $CARGO_TARGET_DIR (cargo build -p echo-server), starts `echo-server up` on a free port
# with a temporary data directory and rate limits off (they would answer most of the run with
# 429), registers two users and seeds a workspace with channels, messages, a file, an invite, a
# bot, a webhook and an API token, so that path and query parameters name real resources most of
# the time instead of always missing. Exits with schemathesis's status.
#
# Not exercised: GET /api/v1/realtime (a WebSocket upgrade, which schemathesis cannot speak) and
# POST /api/v1/auth/logout (it would revoke the run's own token midway).
#
#   ECHO_SERVER=path        the server binary (default: $CARGO_TARGET_DIR/debug/echo-server, else release)
#   ST_VENV=dir             the virtual environment (default: ~/.cache/echo/schemathesis-venv)
#   ST_MAX_EXAMPLES=n       test cases per operation and phase (default: 100)
#   ST_SEED=n               schemathesis's random seed (default: a fresh one, printed at the end)
#   extra arguments are passed to `schemathesis run`
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() {
  echo "schemathesis: $*" >&2
  exit 2
}

# shellcheck source=lib/echo-server.sh
source scripts/lib/echo-server.sh
echo_server_binary
command -v python3 >/dev/null || die "python3 is not installed"

venv="${ST_VENV:-$HOME/.cache/echo/schemathesis-venv}"
if [[ ! -x "$venv/bin/schemathesis" ]]; then
  python3 -m venv "$venv" || die "cannot create a virtual environment (on Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4.3,<5'
fi

port="$(free_port)"
work="$(mktemp -d "${TMPDIR:-/tmp}/echo-schemathesis.XXXXXX")"
cleanup() {
  rm -rf "$work"
}
echo "schemathesis: starting $server up --port $port" >&2
start_echo_server "$work/server.log" env ECHO_BIND=127.0.0.1 ECHO_GATEWAY__RATE_LIMITS__ENABLED=false \
  "$server" up --data-dir "$work/data" --port "$port"

# Seeds the data and writes schemathesis.toml: dictionaries of real ids, bound to the parameters
# that name them (most of the time; the rest stay random, to exercise the 404 paths too).
printf 'a small text file\n' >"$work/upload.txt"
ECHO_URL="$url" UPLOAD="$work/upload.txt" python3 - "$work" <<'PY'
import json, os, sys, urllib.request, uuid

url, work = os.environ["ECHO_URL"], sys.argv[1]

def call(method, path, body=None, token=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read()
        return json.loads(text) if text else None

def register(name):
    return call("POST", "/api/v1/auth/register", {"email": f"{name}@example.com", "password": "correct horse battery", "display_name": name})

tester, other, leaver = register("tester"), register("other"), register("leaver")
token = tester["access_token"]
ws = call("POST", "/api/v1/workspaces", {"name": "Fuzzing"}, token)["id"]
invite = call("POST", f"/api/v1/workspaces/{ws}/invites", {}, token)["code"]
for member in (other, leaver):
    call("POST", f"/api/v1/invites/{invite}/accept", None, member["access_token"])
general = next(c["id"] for c in call("GET", f"/api/v1/workspaces/{ws}/channels", None, token)["channels"])
channel = call("POST", f"/api/v1/workspaces/{ws}/channels", {"name": "fuzz", "visibility": "public", "topic": "t"}, token)["id"]
private = call("POST", f"/api/v1/workspaces/{ws}/channels", {"name": "secret", "visibility": "private"}, token)["id"]
lounge = call("POST", f"/api/v1/workspaces/{ws}/channels", {"name": "lounge", "visibility": "public"}, token)["id"]
dm = call("POST", f"/api/v1/workspaces/{ws}/dms", {"user_ids": [other["user"]["id"]]}, token)["id"]
boundary = uuid.uuid4().hex
upload = (
    f"--{boundary}\r\nContent-Disposition: form-data; name=\"workspace_id\"\r\n\r\n{ws}\r\n"
    f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\n"
).encode() + open(os.environ["UPLOAD"], "rb").read() + f"\r\n--{boundary}--\r\n".encode()
file, doomed_file = (call("POST", "/api/v1/files", raw=upload, token=token, content_type=f"multipart/form-data; boundary={boundary}")["id"] for _ in range(2))
root = call("POST", f"/api/v1/channels/{channel}/messages", {"text": f"hello <@{other['user']['id']}> https://example.com", "file_ids": [file]}, token)["id"]
reply = call("POST", f"/api/v1/channels/{channel}/messages", {"text": "a reply", "thread_root_id": root}, token)["id"]
other_message = call("POST", f"/api/v1/channels/{general}/messages", {"text": "from the other member"}, other["access_token"])["id"]
call("PUT", f"/api/v1/messages/{root}/reactions/tada", None, token)
doomed = [call("POST", f"/api/v1/channels/{channel}/messages", {"text": f"to delete {i}"}, token)["id"] for i in range(3)]
bot = call("POST", f"/api/v1/workspaces/{ws}/bots", {"name": "fuzzbot"}, token)["id"]
webhook = call("POST", f"/api/v1/workspaces/{ws}/webhooks", {"channel_id": channel, "name": "hook"}, token)["id"]
api_token = call("POST", "/api/v1/tokens", {"name": "fuzz", "workspace_id": ws}, token)["id"]
# Revoking a session must never end the one the run uses: the operation gets another one's id.
call("POST", "/api/v1/auth/login", {"email": "tester@example.com", "password": "correct horse battery"})
session = next(s["id"] for s in call("GET", "/api/v1/users/me/sessions", None, token)["sessions"] if not s["current"])

def values(*items):
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"

def bind(name, probability=0.8):
    return f'{{ dictionary = "{name}", probability = {probability} }}'

users = values(tester["user"]["id"], other["user"]["id"])
config = f"""
# Nothing carried over between runs, nor written into the checkout.
cache = {{ enabled = false }}
generation.database = "none"

[dictionaries]
ws = {{ values = {values(ws)} }}
ch = {{ values = {values(channel, general, private, dm)} }}
message = {{ values = {values(root, reply, other_message)} }}
user = {{ values = {users} }}
leaver = {{ values = {values(leaver["user"]["id"])} }}
lounge = {{ values = {values(lounge)} }}
doomed = {{ values = {values(*doomed)} }}
doomed_file = {{ values = {values(doomed_file)} }}
file = {{ values = {values(file)} }}
code = {{ values = {values(invite)} }}
bot = {{ values = {values(bot)} }}
webhook = {{ values = {values(webhook)} }}
api_token = {{ values = {values(api_token)} }}
session = {{ values = {values(session)} }}
emoji = {{ values = {values("tada", "+1")} }}

[parameters]
"path.ws" = {bind("ws")}
"path.ch" = {bind("ch")}
"path.message_id" = {bind("message")}
"path.code" = {bind("code")}
"path.emoji" = {bind("emoji")}
"query.workspace_id" = {bind("ws")}
"query.channel_id" = {bind("ch")}
"query.message_id" = {bind("message")}
"""
# What leaves, archives or deletes gets resources of its own, or the rest of the run would miss.
for operation_id, parameter, dictionary in [
    ("delete_message", "id", "doomed"),
    ("delete_file", "id", "doomed_file"),
    ("leave_channel", "ch", "lounge"),
    ("update_channel", "ch", "lounge"),
    ("remove_member", "user", "leaver"),
    ("update_member", "user", "leaver"),
]:
    config += f'\n[[operations]]\ninclude-operation-id = "{operation_id}"\nparameters = {{ "path.{parameter}" = {bind(dictionary)} }}\n'
for pattern, dictionary in [
    ("^/api/v1/messages/", "message"),
    ("^/api/v1/files/", "file"),
    ("^/api/v1/users/[{]id[}]$", "user"),
    ("/bots/", "bot"),
    ("/webhooks/", "webhook"),
    ("^/api/v1/tokens/", "api_token"),
]:
    config += f'\n[[operations]]\ninclude-path-regex = "{pattern}"\nparameters = {{ "path.id" = {bind(dictionary)} }}\n'
# Stateful testing would follow the link from the session list to the current session.
config += f"""
[[operations]]
include-path = "/api/v1/users/me/sessions/{{id}}"
parameters = {{ "path.id" = {bind("session", 1.0)} }}
phases = {{ stateful = {{ enabled = false }} }}
"""
open(os.path.join(work, "schemathesis.toml"), "w").write(config)
open(os.path.join(work, "token"), "w").write(token)
PY

echo "schemathesis: testing $url/api/openapi.json" >&2
seed=()
[[ -n "${ST_SEED:-}" ]] && seed=(--seed "$ST_SEED")
"$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$url/api/openapi.json" \
  --url "$url" \
  --header "Authorization: Bearer $(cat "$work/token")" \
  --exclude-path /api/v1/realtime \
  --exclude-path /api/v1/auth/logout \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples "${ST_MAX_EXAMPLES:-100}" \
  --workers 1 \
  "${seed[@]}" \
  "$@"
