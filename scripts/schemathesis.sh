#!/usr/bin/env bash
# Property-based tests of the REST API with Schemathesis: for each role,
# starts Kontor on a free loopback port with a fresh data directory (demo
# data, rate limits off), makes an API token, delivers a small fixture
# (two releases, one open promotion request) and lets Schemathesis generate
# requests from /api/v1/openapi.json. Fails on any 5xx and on any answer the
# document does not describe: status code, content type, headers, body.
# The checks and the known-real values it mixes in are in
# tests/schemathesis/schemathesis.toml.
#
#   scripts/schemathesis.sh                      (scripts/test.sh runs this)
#   SCHEMATHESIS_ROLES="entwickler" SCHEMATHESIS_MAX_EXAMPLES=200 scripts/schemathesis.sh
#   SCHEMATHESIS_SEED=42 scripts/schemathesis.sh  (another fixed seed)
#   SCHEMATHESIS_ARGS="--report har --report-dir target/schemathesis" scripts/schemathesis.sh
#
# Installs the pinned Schemathesis (tests/schemathesis/requirements.txt) into
# target/schemathesis-venv when it is missing or the file changed. Needs
# python3 with venv (scripts/ensure-deps.sh installs python3-venv) and PyPI.
# Runs without a terminal (CI=true, no stdin).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$PWD"

REQUIREMENTS="$REPO_ROOT/tests/schemathesis/requirements.txt"
CONFIG="$REPO_ROOT/tests/schemathesis/schemathesis.toml"
VENV="${SCHEMATHESIS_VENV:-$REPO_ROOT/target/schemathesis-venv}"
ROLES="${SCHEMATHESIS_ROLES:-systempfleger entwickler finanzen betreiber}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-50}"
SEED="${SCHEMATHESIS_SEED:-20261123}"
# More options for `st run`, split at blanks, e.g. "--report har".
read -r -a EXTRA_ARGS <<<"${SCHEMATHESIS_ARGS:-}"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$REPO_ROOT/$TARGET_DIR" ;; esac
KONTOR_BIN="$TARGET_DIR/debug/kontor"
# The fixture's image, on the default registry allow-list.
FIXTURE_IMAGE="registry.rz.example/kontor/fixture@sha256:$(printf 'ab%.0s' {1..32})"

log() { printf 'schemathesis: %s\n' "$*"; }
die() { printf 'schemathesis: ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck source=scripts/lib/kontor-run.sh
. "$REPO_ROOT/scripts/lib/kontor-run.sh"

pinned_version() {
  pinned_version_of schemathesis "$REQUIREMENTS"
}

ensure_schemathesis() {
  ensure_pinned_venv "$REQUIREMENTS" "$VENV" schemathesis st SCHEMATHESIS_VENV
}

OUT_DIR=""

cleanup() {
  stop_server
  if [ -n "$OUT_DIR" ]; then rm -rf "$OUT_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Small HTTP client for the fixture: METHOD URL [TOKEN [JSON]].
# Prints the status code, then the body.
http() {
  "$VENV/bin/python" - "$@" <<'PY'
import sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
token = sys.argv[3] if len(sys.argv) > 3 else ""
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request(url, data=body, method=method)
if token:
    req.add_header("Authorization", "Bearer " + token)
if body is not None:
    req.add_header("Content-Type", "application/json")
try:
    with urllib.request.urlopen(req, timeout=10) as resp:
        print(resp.status); print(resp.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); print(e.read().decode())
except OSError as e:
    print(0); print(e)
PY
}

# $1 expected status, then http's arguments. Prints the body.
expect() {
  local want="$1" out
  shift
  out="$(http "$@")"
  [ "${out%%$'\n'*}" = "$want" ] \
    || die "fixture: $1 $2 answered ${out%%$'\n'*}, not $want: ${out#*$'\n'}"
  printf '%s\n' "${out#*$'\n'}"
}

# Waits until the deployment of application $1 into Vorprüfung has
# succeeded (the reconciler does it right after the delivery).
wait_deployed() {
  local app="$1" dev="$2" _ body
  for _ in $(seq 1 60); do
    body="$(expect 200 GET "$BASE_URL/api/v1/applications/$app/pipeline" "$dev")" || exit 1
    if "$VENV/bin/python" -c '
import json, sys
stages = {s["stage"]: s for s in json.load(sys.stdin)["stages"]}
sys.exit(stages["vorpruefung"].get("deployment", {}).get("state") != "erfolgreich")
' <<<"$body"; then
      return 0
    fi
    sleep 0.5
  done
  die "fixture: the release of application $app did not reach Vorprüfung in 30 s: $body"
}

# Releases 1 and 2 (applications 1 and 2), each deployed into Vorprüfung,
# and promotion 1: release 1 into Abnahme, requested by the Entwickler,
# open. The demo data has no releases of its own.
deliver_fixture() {
  local dev="$1" api="$BASE_URL/api/v1" app
  for app in 1 2; do
    expect 201 POST "$api/applications/$app/releases" "$dev" \
      "{\"version\": \"0.9.0\", \"image\": \"$FIXTURE_IMAGE\"}" >/dev/null
  done
  for app in 1 2; do
    wait_deployed "$app" "$dev"
  done
  expect 201 POST "$api/applications/1/promotions" "$dev" \
    '{"release_id": 1, "to_stage": "abnahme"}' >/dev/null
}

# ------------------------------------------------------------------- runs
# $1 role (demo user login); $2 file for the output. Returns st's status.
run_role() {
  local role="$1" out="$2" token status=0
  start_server schemathesis
  # die inside $(…) would only end the subshell: hence the `|| exit`.
  token="$(token_for entwickler schemathesis)" || exit 1
  deliver_fixture "$token"
  token="$(token_for "$role" schemathesis)" || exit 1
  log "$role: Kontor at $BASE_URL, $MAX_EXAMPLES examples per operation, seed $SEED"
  # Hypothesis keeps its Unicode tables there instead of in ./.hypothesis.
  HYPOTHESIS_STORAGE_DIRECTORY="$VENV/hypothesis" "$VENV/bin/st" --config-file "$CONFIG" --no-color run \
    "$BASE_URL/api/v1/openapi.json" --url "$BASE_URL" \
    -H "Authorization: Bearer $token" \
    --max-examples "$MAX_EXAMPLES" --seed "$SEED" ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"} \
    </dev/null 2>&1 | tee "$out" || status=$?
  if [ "$status" -ne 0 ]; then
    log "$role: the last lines of Kontor's log:"
    tail -n 30 "$DATA_DIR/server.log" | sed 's/\x1b\[[0-9;]*m//g' || true
  fi
  stop_server
  return "$status"
}

ensure_schemathesis
log "cargo build --features bench-seed --bin kontor"
cargo build --quiet --features bench-seed --bin kontor
[ -x "$KONTOR_BIN" ] || die "$KONTOR_BIN missing after cargo build"

OUT_DIR="$(mktemp -d "${TMPDIR:-/tmp}/schemathesis-out.XXXXXX")"
passed=0
failed=0
summary=()
for role in $ROLES; do
  start=$SECONDS
  printf '\n==> schemathesis as %s\n' "$role"
  if run_role "$role" "$OUT_DIR/$role.txt"; then
    verdict=passed
    passed=$((passed + 1))
  else
    verdict=FAILED
    failed=$((failed + 1))
  fi
  cases="$(grep -A1 '^Test cases:' "$OUT_DIR/$role.txt" | tail -n 1 | sed 's/^ *//' || true)"
  summary+=("$(printf '%-26s %-6s %4ss  %s' "$role" "$verdict" $((SECONDS - start)) "${cases:-no summary}")")
done

printf '\n==> schemathesis summary (seed %s, %s examples per operation)\n' "$SEED" "$MAX_EXAMPLES"
printf '  %s\n' "${summary[@]}"
echo "schemathesis: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
