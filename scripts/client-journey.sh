#!/usr/bin/env bash
# A generated client's journey: generates a Python client from the OpenAPI
# document a fresh Kontor serves (/api/v1/openapi.json) with the standard
# generator openapi-python-client, then runs one journey through it
# (tests/client/journey.py: typed calls, no hand-written HTTP) as the demo
# Betreiber, Systempfleger:in and Finanzen. Fails when the generator refuses
# the document or any step of the journey fails; the message names the step.
#
#   scripts/client-journey.sh                 (scripts/test.sh runs this)
#   CLIENT_JOURNEY_KEEP=1 scripts/client-journey.sh   (keep Kontor's data dir)
#
# Installs the pinned generator (tests/client/requirements.txt) into
# target/client-venv when it is missing or the file changed; the client is
# generated anew on every run into target/client-journey/ (never committed).
# Needs python3 with venv (scripts/ensure-deps.sh installs python3-venv) and
# PyPI. Runs without a terminal.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$PWD"

REQUIREMENTS="$REPO_ROOT/tests/client/requirements.txt"
GENERATOR_CONFIG="$REPO_ROOT/tests/client/generator.yaml"
JOURNEY="$REPO_ROOT/tests/client/journey.py"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$REPO_ROOT/$TARGET_DIR" ;; esac
VENV="${CLIENT_JOURNEY_VENV:-$REPO_ROOT/target/client-venv}"
OUT="$REPO_ROOT/target/client-journey"
KONTOR_BIN="$TARGET_DIR/debug/kontor"

log() { printf 'client journey: %s\n' "$*"; }
die() { printf 'client journey: ERROR: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------- generator
pinned_version() {
  sed -n 's/^openapi-python-client==\([^ ;#]*\).*/\1/p' "$REQUIREMENTS"
}

ensure_generator() {
  local pinned stamp="$VENV/.kontor-requirements.txt"
  pinned="$(pinned_version)"
  [ -n "$pinned" ] || die "$REQUIREMENTS pins no openapi-python-client==VERSION"
  # Up to date when made from this very requirements file and still running
  # (a changed python3 breaks a venv).
  if [ -f "$stamp" ] && cmp -s "$REQUIREMENTS" "$stamp" \
    && "$VENV/bin/openapi-python-client" --version 2>/dev/null | grep -qF "$pinned"; then
    log "openapi-python-client $pinned present in $VENV"
    return
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 not found (scripts/ensure-deps.sh installs it)"
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 \
    || die "python3 cannot make a venv: install python3-venv (scripts/ensure-deps.sh does)"
  if [ -e "$VENV" ] && [ ! -f "$VENV/pyvenv.cfg" ]; then
    die "$VENV exists and is no venv; remove it or set CLIENT_JOURNEY_VENV"
  fi
  log "installing openapi-python-client $pinned into $VENV"
  python3 -m venv --clear "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$REQUIREMENTS" </dev/null
  "$VENV/bin/openapi-python-client" --version | grep -qF "$pinned" \
    || die "installed, but openapi-python-client --version is not $pinned"
  cp "$REQUIREMENTS" "$stamp"
  log "openapi-python-client $pinned installed"
}

# ------------------------------------------------------------------ Kontor
SERVER_PID=""
DATA_DIR=""
BASE_URL=""

cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "$DATA_DIR" ] && [ -z "${CLIENT_JOURNEY_KEEP:-}" ]; then
    rm -rf "$DATA_DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# As scripts/schemathesis.sh: the data dir, the port, rate limits off, and
# none of the caller's KONTOR_* settings; runs from inside $DATA_DIR.
KONTOR_ENV=()
kontor_env() {
  local name
  KONTOR_ENV=()
  for name in $(compgen -e); do
    case "$name" in KONTOR_*) KONTOR_ENV+=(-u "$name") ;; esac
  done
  KONTOR_ENV+=(
    KONTOR_DATA_DIR="$DATA_DIR"
    KONTOR_LISTEN="${BASE_URL#http://}"
    KONTOR_METRICS_LISTEN=off
    KONTOR_RATE_LIMIT_API_PER_MINUTE=0
    KONTOR_RATE_LIMIT_LOGIN_PER_MINUTE=0
  )
}

# GET $1 into file $2; prints the status code (0 when unreachable).
fetch() {
  "$VENV/bin/python" - "$1" "$2" <<'PY'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as resp:
        open(sys.argv[2], "wb").write(resp.read()); print(resp.status)
except urllib.error.HTTPError as e:
    print(e.code)
except OSError:
    print(0)
PY
}

start_server() {
  DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/kontor-client-journey.XXXXXX")"
  BASE_URL="http://127.0.0.1:$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  kontor_env
  (cd "$DATA_DIR" && exec env "${KONTOR_ENV[@]}" "$KONTOR_BIN" serve) >"$DATA_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  local _
  for _ in $(seq 1 120); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      sed 's/\x1b\[[0-9;]*m//g' "$DATA_DIR/server.log" | tail -n 40 >&2 || true
      die "Kontor exited during start (log above)"
    fi
    [ "$(fetch "$BASE_URL/readyz" /dev/null)" = 200 ] && return 0
    sleep 0.5
  done
  sed 's/\x1b\[[0-9;]*m//g' "$DATA_DIR/server.log" | tail -n 40 >&2 || true
  die "Kontor not ready at $BASE_URL/readyz after 60 s (log above)"
}

token_for() {
  local token
  token="$(cd "$DATA_DIR" && env "${KONTOR_ENV[@]}" "$KONTOR_BIN" token create \
    --user "$1" --name client-journey 2>>"$DATA_DIR/token.log")" \
    && [ -n "$token" ] \
    || die "kontor token create --user $1 failed: $(cat "$DATA_DIR/token.log")"
  printf '%s' "$token"
}

# -------------------------------------------------------------------- run
started=$SECONDS
ensure_generator
log "cargo build --features bench-seed --bin kontor"
cargo build --quiet --features bench-seed --bin kontor
[ -x "$KONTOR_BIN" ] || die "$KONTOR_BIN missing after cargo build"

start_server
log "Kontor at $BASE_URL"
rm -rf "$OUT"
mkdir -p "$OUT"
status="$(fetch "$BASE_URL/api/v1/openapi.json" "$OUT/openapi.json")"
[ "$status" = 200 ] || die "GET /api/v1/openapi.json answered $status"

# Warnings count as failures: a warning means a part of the document the
# generator could not turn into code (an operation or answer left out).
log "generating the client (openapi-python-client $(pinned_version))"
generated=0
PATH="$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate \
  --path "$OUT/openapi.json" --config "$GENERATOR_CONFIG" \
  --output-path "$OUT/kontor-client" --overwrite </dev/null >"$OUT/generate.log" 2>&1 || generated=$?
if [ "$generated" -ne 0 ] || grep -qiE 'warning|error' "$OUT/generate.log"; then
  cat "$OUT/generate.log" >&2
  die "openapi-python-client did not digest /api/v1/openapi.json cleanly (above)"
fi
[ -d "$OUT/kontor-client/kontor_client" ] || die "no package kontor_client in $OUT/kontor-client"

KONTOR_TOKEN_BETREIBER="$(token_for betreiber)" || exit 1
KONTOR_TOKEN_SYSTEMPFLEGER="$(token_for systempfleger)" || exit 1
KONTOR_TOKEN_FINANZEN="$(token_for finanzen)" || exit 1
export KONTOR_TOKEN_BETREIBER KONTOR_TOKEN_SYSTEMPFLEGER KONTOR_TOKEN_FINANZEN
journey=0
KONTOR_URL="$BASE_URL" PYTHONPATH="$OUT/kontor-client" PYTHONDONTWRITEBYTECODE=1 \
  "$VENV/bin/python" "$JOURNEY" </dev/null || journey=$?
if [ "$journey" -ne 0 ]; then
  log "the last lines of Kontor's log:"
  tail -n 30 "$DATA_DIR/server.log" | sed 's/\x1b\[[0-9;]*m//g' || true
  die "the journey failed (step above)"
fi
log "passed in $((SECONDS - started)) s"
