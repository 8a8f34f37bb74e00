#!/usr/bin/env bash
# Make sure the machine has what Kontor's tests need, installing only what is
# missing. Safe to run again and again (CI runs it before every test run).
#
#   a) PostgreSQL answering on 127.0.0.1:5432, user postgres without password
#   b) Debian's Chromium at /usr/bin/chromium (browser and a11y tests)
#   c) tests/browser/node_modules and tests/oidc/node_modules (the test
#      OpenID provider) in step with their package-lock.json
#   d) python3 that can make a venv (scripts/schemathesis.sh installs
#      Schemathesis into one)
#   d') the real SMTP server of the notification tests (aiosmtpd, pinned in
#      tests/notifications/requirements.txt) in ~/.cache/kontor/notify-venv
#   e) Maven and curl, with which scripts/keycloak.sh fetches and checks
#      Keycloak (it finds the Java 21+ Keycloak needs itself)
#   f) the openssl command and Go, for the real Kubernetes control plane of
#      the tests (scripts/kube-binaries.sh builds it; the tests make their
#      certificates with openssl)
#
# Meant for Debian bookworm-like machines, run as root (or with sudo), without
# a terminal (CI=true, no stdin). It never stops or restarts a running server.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_HOST=127.0.0.1
PG_PORT="${ENSURE_DEPS_PG_PORT:-5432}"  # override only to test this script
CHROMIUM=/usr/bin/chromium
HBA_MARKER="# Added by Kontor scripts/ensure-deps.sh: loopback connects without password."

export DEBIAN_FRONTEND=noninteractive

log() { printf 'ensure-deps: %s\n' "$*"; }
die() { printf 'ensure-deps: ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else SUDO=""; fi
fi

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* by hand"
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq </dev/null
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" </dev/null
}

# ---------------------------------------------------------------- PostgreSQL
# Newest PostgreSQL version whose server is installed, or nothing.
pg_server_version() {
  local bin
  for bin in /usr/lib/postgresql/*/bin/postgres; do
    if [ -x "$bin" ]; then basename "$(dirname "$(dirname "$bin")")"; fi
  done | sort -V | tail -1
}

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1; }

pg_passwordless() {
  # No password from the environment or a ~/.pgpass may help.
  env -u PGPASSWORD PGPASSFILE=/dev/null PGCONNECT_TIMEOUT=5 \
    psql -X -w -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -Atc 'select 1' \
    </dev/null >/dev/null 2>&1
}

# Prints "version name" of the cluster to use: the one on our port, else the
# first one found.
pg_cluster() {
  local line
  if command -v pg_lsclusters >/dev/null 2>&1; then
    line="$(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p {print $1, $2; exit}')"
    if [ -z "$line" ]; then line="$(pg_lsclusters -h 2>/dev/null | awk 'NR == 1 {print $1, $2}')"; fi
  fi
  if [ -z "${line:-}" ] && [ -d /etc/postgresql ]; then
    local ver
    ver="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -V | head -1)"
    [ -n "$ver" ] && [ -d "/etc/postgresql/$ver/main" ] && line="$ver main"
  fi
  printf '%s' "${line:-}"
}

pg_start() {
  local cluster
  cluster="$(pg_cluster)"
  if [ -z "$cluster" ]; then
    if command -v pg_createcluster >/dev/null 2>&1; then
      local ver
      ver="$(pg_server_version)"
      log "no cluster found, creating $ver/main on port $PG_PORT"
      $SUDO pg_createcluster --port "$PG_PORT" "$ver" main >/dev/null
      cluster="$ver main"
    else
      die "PostgreSQL is installed but has no cluster and no pg_createcluster"
    fi
  fi
  # shellcheck disable=SC2086 # "version name" is meant to split
  set -- $cluster
  log "starting PostgreSQL cluster $1/$2"
  # Starting an already running cluster fails; that is fine, readiness is
  # checked below.
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$1" "$2" start </dev/null || true
}

pg_wait() {
  local _
  for _ in $(seq 1 60); do
    pg_ready && return 0
    sleep 1
  done
  return 1
}

# Lets user postgres connect over TCP from loopback without a password. The
# lines go first, since pg_hba.conf is read top down and the first match wins.
pg_trust_loopback() {
  local cluster hba
  cluster="$(pg_cluster)"
  [ -n "$cluster" ] || die "cannot find the PostgreSQL cluster to configure"
  # shellcheck disable=SC2086
  set -- $cluster
  hba="/etc/postgresql/$1/$2/pg_hba.conf"
  [ -f "$hba" ] || die "$hba not found"
  if ! grep -q "$HBA_MARKER" "$hba"; then
    log "pg_hba: trusting 127.0.0.1/32 and ::1/128 in $hba"
    $SUDO cp -p "$hba" "$hba.before-kontor"
    local tmp
    tmp="$(mktemp)"
    {
      echo "$HBA_MARKER"
      echo "host    all    all    127.0.0.1/32    trust"
      echo "host    all    all    ::1/128         trust"
      cat "$hba"
    } >"$tmp"
    $SUDO cp "$tmp" "$hba"
    rm -f "$tmp"
  fi
  log "reloading PostgreSQL $1/$2"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$1" "$2" reload </dev/null
  sleep 1
}

ensure_postgres() {
  if pg_ready; then
    log "PostgreSQL answers on $PG_HOST:$PG_PORT"
  else
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(pg_server_version)" ]; then
      log "PostgreSQL not installed"
      apt_install postgresql postgresql-client
    fi
    pg_start
    log "waiting for PostgreSQL on $PG_HOST:$PG_PORT"
    pg_wait || die "PostgreSQL does not answer on $PG_HOST:$PG_PORT (see /var/log/postgresql/)"
    log "PostgreSQL answers on $PG_HOST:$PG_PORT"
  fi
  if pg_passwordless; then
    log "user postgres connects over TCP without password"
  else
    pg_trust_loopback
    pg_wait || die "PostgreSQL did not come back after reload"
    pg_passwordless || die "user postgres still cannot connect to $PG_HOST:$PG_PORT without password"
    log "user postgres connects over TCP without password"
  fi
}

# ------------------------------------------------------------------ Chromium
ensure_chromium() {
  if [ -x "$CHROMIUM" ]; then
    log "Chromium present at $CHROMIUM"
  else
    apt_install chromium
    [ -x "$CHROMIUM" ] || die "chromium installed but $CHROMIUM missing"
    log "Chromium installed at $CHROMIUM"
  fi
}

# -------------------------------------------------------- node test packages
# $1: a directory below the repository root with a package-lock.json, e.g.
# tests/browser.
ensure_node_modules() {
  local rel="$1"
  local dir="$REPO_ROOT/$rel"
  [ -f "$dir/package-lock.json" ] || die "$dir/package-lock.json missing"
  if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  # npm writes node_modules/.package-lock.json on every install: its age tells
  # whether node_modules was made from the current lock file.
  local stamp="$dir/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ ! "$dir/package-lock.json" -nt "$stamp" ]; then
    log "$rel/node_modules up to date"
  else
    log "npm ci in $rel"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
    touch "$stamp"
    log "$rel/node_modules installed"
  fi
}

# ------------------------------------------------------------- Python venv
# Debian's python3 makes venvs only with python3-venv (ensurepip).
python_venv_ok() { python3 -c 'import ensurepip, venv' >/dev/null 2>&1; }

ensure_python_venv() {
  if command -v python3 >/dev/null 2>&1 && python_venv_ok; then
    log "python3 can make a venv"
  else
    apt_install python3 python3-venv
    python_venv_ok || die "python3-venv installed but python3 still cannot make a venv"
    log "python3-venv installed"
  fi
}

# ------------------------------------------ notification tests' SMTP server
# aiosmtpd in a venv of its own (the tests start it as a process on
# loopback; `cargo run` needs none of it). Remade when the pinned
# requirements change.
NOTIFY_VENV="${KONTOR_NOTIFY_VENV:-$HOME/.cache/kontor/notify-venv}"
ensure_notify_venv() {
  local req="$REPO_ROOT/tests/notifications/requirements.txt" stamp="$NOTIFY_VENV/.kontor-requirements.txt"
  if [ -f "$stamp" ] && cmp -s "$req" "$stamp" \
    && "$NOTIFY_VENV/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
    log "aiosmtpd present in $NOTIFY_VENV"
    return
  fi
  log "installing aiosmtpd into $NOTIFY_VENV"
  mkdir -p "$(dirname "$NOTIFY_VENV")"
  python3 -m venv --clear "$NOTIFY_VENV"
  "$NOTIFY_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$req" </dev/null
  cp "$req" "$stamp"
  log "aiosmtpd installed into $NOTIFY_VENV"
}

# --------------------------------------------------------- Keycloak's tools
ensure_keycloak_tools() {
  local missing=()
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
  log "Maven and curl present (scripts/keycloak.sh)"
}

# ---------------------------------------- real Kubernetes control plane
# Go comes with the machine (the control plane is built from Go modules);
# openssl makes the control plane's certificates per test run.
ensure_kube_tools() {
  command -v openssl >/dev/null 2>&1 || apt_install openssl
  command -v go >/dev/null 2>&1 \
    || die "Go is needed to build the tests' Kubernetes control plane (scripts/kube-binaries.sh)"
  log "openssl and $(go env GOVERSION) for the Kubernetes control plane"
}

ensure_postgres
ensure_chromium
ensure_node_modules tests/browser
ensure_node_modules tests/oidc
ensure_python_venv
ensure_notify_venv
ensure_keycloak_tools
ensure_kube_tools
log "done"
