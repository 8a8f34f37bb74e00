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

# shellcheck source=scripts/lib/kontor-run.sh
. "$REPO_ROOT/scripts/lib/kontor-run.sh"

pinned_version() {
  pinned_version_of openapi-python-client "$REQUIREMENTS"
}

ensure_generator() {
  ensure_pinned_venv "$REQUIREMENTS" "$VENV" openapi-python-client openapi-python-client \
    CLIENT_JOURNEY_VENV
}

cleanup() {
  stop_server "${CLIENT_JOURNEY_KEEP:-}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# GET $1 into file $2; prints the status code (0 when unreachable).
fetch() {
  python3 - "$1" "$2" <<'PY'
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

# -------------------------------------------------------------------- run
started=$SECONDS
ensure_generator
log "cargo build --features bench-seed --bin kontor"
cargo build --quiet --features bench-seed --bin kontor
[ -x "$KONTOR_BIN" ] || die "$KONTOR_BIN missing after cargo build"

start_server client-journey
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

KONTOR_TOKEN_BETREIBER="$(token_for betreiber client-journey)" || exit 1
KONTOR_TOKEN_SYSTEMPFLEGER="$(token_for systempfleger client-journey)" || exit 1
KONTOR_TOKEN_FINANZEN="$(token_for finanzen client-journey)" || exit 1
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
