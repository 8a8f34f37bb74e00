# Shared by scripts/schemathesis.sh and scripts/client-journey.sh: a pinned
# Python tool in a venv of its own, and a fresh Kontor on a free loopback
# port (demo data, rate limits off, none of the caller's KONTOR_* settings).
# Sourced, not run. The caller defines `log` and `die` first and sets
# KONTOR_BIN; the Kontor's state is in SERVER_PID, DATA_DIR, BASE_URL and
# KONTOR_ENV, and `stop_server` ends it (call it from the caller's EXIT
# trap).

# ---------------------------------------------------------- pinned venv
# ensure_pinned_venv REQUIREMENTS VENV PACKAGE COMMAND OVERRIDE_VAR:
# installs REQUIREMENTS into VENV when the venv is missing, was made from
# another requirements file or no longer runs (a changed python3 breaks a
# venv); `VENV/bin/COMMAND --version` must name the version REQUIREMENTS
# pins for PACKAGE.
pinned_version_of() {
  sed -n "s/^$1==\\([^ ;#]*\\).*/\\1/p" "$2"
}

ensure_pinned_venv() {
  local requirements="$1" venv="$2" package="$3" command="$4" override="$5"
  local pinned stamp="$venv/.kontor-requirements.txt"
  pinned="$(pinned_version_of "$package" "$requirements")"
  [ -n "$pinned" ] || die "$requirements pins no $package==VERSION"
  if [ -f "$stamp" ] && cmp -s "$requirements" "$stamp" \
    && "$venv/bin/$command" --version 2>/dev/null | grep -qF "$pinned"; then
    log "$package $pinned present in $venv"
    return
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 not found (scripts/ensure-deps.sh installs it)"
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 \
    || die "python3 cannot make a venv: install python3-venv (scripts/ensure-deps.sh does)"
  if [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ]; then
    die "$venv exists and is no venv; remove it or set $override"
  fi
  log "installing $package $pinned into $venv"
  python3 -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$requirements" </dev/null
  "$venv/bin/$command" --version | grep -qF "$pinned" \
    || die "installed, but $command --version is not $pinned"
  cp "$requirements" "$stamp"
  log "$package $pinned installed"
}

# --------------------------------------------------------------- Kontor
SERVER_PID=""
DATA_DIR=""
BASE_URL=""
KONTOR_ENV=()

# The environment the kontor binary runs with: $DATA_DIR, $BASE_URL's port,
# rate limits off, and none of the caller's KONTOR_* settings, so that every
# run tests the same configuration. It runs from inside $DATA_DIR, so no
# ./kontor.toml is read either.
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

# Readiness needs only the standard library of python3 (no venv).
ready_status() {
  python3 - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as resp:
        print(resp.status)
except urllib.error.HTTPError as e:
    print(e.code)
except OSError:
    print(0)
PY
}

server_log_tail() {
  sed 's/\x1b\[[0-9;]*m//g' "$DATA_DIR/server.log" | tail -n "${1:-40}" >&2 || true
}

# start_server NAME: a fresh data directory (kontor-NAME.XXXXXX), a free
# port, `kontor serve`; waits for /readyz.
start_server() {
  DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/kontor-$1.XXXXXX")"
  BASE_URL="http://127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  kontor_env
  # The subshell execs, so $! is the server's own pid.
  (cd "$DATA_DIR" && exec env "${KONTOR_ENV[@]}" "$KONTOR_BIN" serve) >"$DATA_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  local _
  for _ in $(seq 1 120); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      server_log_tail
      die "Kontor exited during start (log above)"
    fi
    [ "$(ready_status "$BASE_URL/readyz")" = 200 ] && return 0
    sleep 0.5
  done
  server_log_tail
  die "Kontor not ready at $BASE_URL/readyz after 60 s (log above)"
}

# stop_server [keep]: ends the server; removes its data directory unless
# told to keep it.
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
  if [ -n "$DATA_DIR" ] && [ -z "${1:-}" ]; then
    rm -rf "$DATA_DIR"
    DATA_DIR=""
  fi
}

# token_for LOGIN NAME: prints a new API token of demo user LOGIN (the
# CLI's remark goes to a log). Call as `t="$(token_for …)" || exit 1`: die
# inside $(…) only ends the subshell.
token_for() {
  local token
  token="$(cd "$DATA_DIR" && env "${KONTOR_ENV[@]}" "$KONTOR_BIN" token create \
    --user "$1" --name "$2" 2>>"$DATA_DIR/token.log")" \
    && [ -n "$token" ] \
    || die "kontor token create --user $1 failed: $(cat "$DATA_DIR/token.log")"
  printf '%s' "$token"
}
