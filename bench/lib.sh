# shellcheck shell=bash
# What the benchmark scripts share (sourced by bench/http.sh, booking.sh,
# profile.sh and billing.sh, never run alone): logging, the loopback rule,
# Debian tools, the release build, the work directory with the server's
# cleanup, the settings of a measured server, and processes' CPU time.
#
# The sourcing script sets REPO_ROOT, PG_URL, DB_NAME and LISTEN first, and
# BENCH_NAME (its log prefix) if not "bench". It may define cleanup_extra,
# which runs on exit after the server has stopped.

KONTOR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/kontor"

# The scripts run Kontor from a work directory that is removed at the end;
# a results file named relative to where the script was started must not
# be written (and removed) there.
if [ -n "${RESULTS:-}" ]; then
  case "$RESULTS" in /*) ;; *) RESULTS="$PWD/$RESULTS" ;; esac
fi

log() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; exit 1; }

# Load goes to this machine only: PostgreSQL and Kontor on loopback.
require_loopback() {
  case "$PG_URL" in
    postgres://*@127.0.0.1:*|postgres://*@localhost:*|postgresql://*@127.0.0.1:*|postgresql://*@localhost:*) ;;
    *) die "BENCH_PG_URL must point to a PostgreSQL server on loopback (got $PG_URL)" ;;
  esac
  case "$LISTEN" in
    127.0.0.1:*|localhost:*) ;;
    *) die "BENCH_LISTEN must be a loopback address (got $LISTEN)" ;;
  esac
}

# need_tools TOOL…: fails naming the first one missing.
need_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing"
  done
}

# need_debian COMMAND [PACKAGE]: installs Debian's package when COMMAND is
# missing (wrk, valgrind, /usr/bin/time).
need_debian() {
  local cmd="$1" pkg="${2:-$1}" sudo=""
  command -v "$cmd" >/dev/null 2>&1 && return 0
  log "$cmd is missing; installing the Debian package $pkg"
  [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$pkg" </dev/null \
    || die "could not install $pkg (apt-get install $pkg)"
}

# The release build, unless BENCH_SKIP_BUILD=1 asks for the one there is.
build_release() {
  if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    log "cargo build --release --features bench-seed"
    (cd "$REPO_ROOT" && cargo build --release --quiet --features bench-seed)
  fi
  [ -x "$KONTOR" ] || die "$KONTOR not found (build it or unset BENCH_SKIP_BUILD)"
}

# start_work NAME: an empty directory to run Kontor from (it reads
# ./kontor.toml if there is one, and a developer's must not change the
# figures), removed on exit together with the server.
start_work() {
  WORK="$(mktemp -d -t "kontor-$1.XXXXXX")"
  SERVER_PID=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
  rm -rf "$WORK"
}

# Kontor's settings for a measured server: its own database and data
# directory, no demo data, no login provider or configuration file from the
# environment, no metrics listener, and none of the scheduled runs that
# would overlap the measurements (closing months, walking the Revision's
# chain). The other background jobs stay on unless quiet_background is
# called too.
server_env() {
  export KONTOR_DATABASE_URL="$PG_URL/$DB_NAME"
  export KONTOR_DATA_DIR="$WORK/data"
  export KONTOR_SEED_DEMO=false
  export KONTOR_LISTEN="$LISTEN"
  export KONTOR_METRICS_LISTEN=off
  export KONTOR_BILLING_CLOSE_EVERY_MINUTES=0
  export KONTOR_AUDIT_VERIFY_EVERY_MINUTES=0
  unset KONTOR_OIDC_ISSUER KONTOR_CONFIG KONTOR_PUBLIC_URL KONTOR_DEMO_LOGIN
}

# The reconciler, drift check, metering, budget watch and session pruning
# off, so that what is measured is the requests' (or the download's) alone:
# at start the reconciler renders every environment of the dataset through
# the same pool (80,000 at ×10).
quiet_background() {
  export KONTOR_RECONCILE_WORKERS=0 KONTOR_RESYNC_EVERY_SECONDS=0 KONTOR_METERING_EVERY_SECONDS=0
  export KONTOR_BUDGET_WATCH_EVERY_SECONDS=0 KONTOR_SESSION_PRUNE_EVERY_SECONDS=0
}

# CPU time (clock ticks, utime + stime) of processes; gone ones count 0.
ticks() {
  local sum=0 pid f
  for pid in "$@"; do
    read -r -a f <"/proc/$pid/stat" 2>/dev/null || continue
    sum=$((sum + f[13] + f[14]))
  done
  echo "$sum"
}
HZ="$(getconf CLK_TCK)"
