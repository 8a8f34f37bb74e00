#!/usr/bin/env bash
# A real Keycloak for Kontor's tests (tests/keycloak/README.md).
#
#   scripts/keycloak.sh ensure
#       Fetches org.keycloak:keycloak-quarkus-dist with Maven, unpacks it into
#       ~/.cache/kontor/keycloak-<version>/ and prepares it there once (the
#       Quarkus build and an H2 database with the master realm and the admin
#       user, so that each start skips both); only what is missing. Prints
#       the Keycloak and Java versions it uses.
#   scripts/keycloak.sh serve [--exit-with-stdin] [--exit-with-pid PID]
#       Starts one Keycloak in dev mode on a free loopback port, in a fresh
#       directory of its own, importing tests/keycloak/realm-verwaltung.json.
#       Once the realm answers it prints exactly one line to stdout:
#         {"url":"http://127.0.0.1:PORT","realm":"verwaltung","admin_user":"admin","admin_password":"admin"}
#       It stops Keycloak (and removes its directory) on SIGTERM, SIGINT or
#       SIGHUP, with --exit-with-stdin also when stdin closes (a test harness
#       keeps the write end of a pipe, so Keycloak goes away with the test
#       process however that ends: panic, SIGKILL), and with --exit-with-pid
#       when that process is gone (checked every second; for scripts).
#
# Settings: KONTOR_KEYCLOAK_VERSION (default below), KONTOR_CACHE_DIR
# (default ~/.cache/kontor), KONTOR_KEYCLOAK_JAVA (a java binary, version 21
# or newer), KONTOR_KEYCLOAK_START_TIMEOUT (seconds, default 300).
set -euo pipefail
# die() inside $(…) must end the script too.
shopt -s inherit_errexit

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${KONTOR_KEYCLOAK_VERSION:-26.7.3}"
CACHE="${KONTOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kontor}"
HOME_DIR="$CACHE/keycloak-$VERSION"
READY_MARK="$HOME_DIR/.kontor-prepared"
TEMPLATE_DB="$HOME_DIR/kontor-template/h2"
REALM_FILE="$REPO_ROOT/tests/keycloak/realm-verwaltung.json"
START_TIMEOUT="${KONTOR_KEYCLOAK_START_TIMEOUT:-300}"
# The bootstrap admin of the master realm; loopback only, test data only.
ADMIN_USER=admin
ADMIN_PASSWORD=admin
# Keycloak needs Java 21 or newer.
JAVA_MIN=21
# A test Keycloak serves a handful of logins: the C1 compiler alone starts
# it in about half the time (measured: 12 s instead of 20 s from the cache).
JVM_OPTS="-XX:TieredStopAtLevel=1"

log() { printf 'keycloak: %s\n' "$*" >&2; }
die() { printf 'keycloak: ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------- Java
# The feature version of a java binary (17, 21, 25, …), or nothing.
java_feature() {
  "$1" -XshowSettings:properties -version 2>&1 \
    | awk -F'= ' '/java.specification.version =/ {print $2; exit}' \
    | awk -F. '{ if ($1 == "1") print $2; else print $1 }'
}

# Prints the java binary to use: KONTOR_KEYCLOAK_JAVA, else JAVA_HOME's, else
# the one on PATH, else the newest under /usr/lib/jvm — the first that is
# version 21 or newer.
find_java() {
  local candidates=() seen="" c v
  if [ -n "${KONTOR_KEYCLOAK_JAVA:-}" ]; then
    v="$(java_feature "$KONTOR_KEYCLOAK_JAVA" || true)"
    if [ -n "$v" ] && [ "$v" -ge "$JAVA_MIN" ]; then
      echo "$KONTOR_KEYCLOAK_JAVA"
      return 0
    fi
    die "KONTOR_KEYCLOAK_JAVA=$KONTOR_KEYCLOAK_JAVA is Java ${v:-?}; Keycloak $VERSION needs Java $JAVA_MIN or newer"
  fi
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  c="$(command -v java || true)"
  [ -n "$c" ] && candidates+=("$(readlink -f "$c")")
  # Newest first: sort the JDK directories by the version in their name.
  while IFS= read -r c; do candidates+=("$c"); done < <(
    for d in /usr/lib/jvm/*/; do
      [ -x "$d/bin/java" ] && printf '%s\n' "${d%/}/bin/java"
    done | sort -t- -k2 -V -r
  )
  for c in "${candidates[@]}"; do
    [ -x "$c" ] || continue
    v="$(java_feature "$c" || true)"
    seen="$seen ${c} (${v:-?})"
    if [ -n "$v" ] && [ "$v" -ge "$JAVA_MIN" ]; then
      echo "$c"
      return 0
    fi
  done
  die "Keycloak $VERSION needs Java $JAVA_MIN or newer; found:${seen:- no java at all}. Install a JDK $JAVA_MIN+ under /usr/lib/jvm/ or set KONTOR_KEYCLOAK_JAVA to its bin/java."
}

java_home_of() { dirname "$(dirname "$1")"; }

java_version_line() {
  "$1" -version 2>&1 | head -1
}

# ---------------------------------------------------------- a running server
KC_PID=""
RUN_DIR=""
WATCHER=""

# Starts kc.sh start-dev in RUN_DIR (its own session, so that the whole
# process group can be stopped) and sets KC_PID; $@ are extra options.
start_server() {
  local java="$1"
  shift
  # The C1-only flag goes to the JVM through kc.sh's JAVA_OPTS_APPEND.
  (
    cd "$RUN_DIR"
    exec setsid env JAVA_HOME="$(java_home_of "$java")" JAVA="$java" \
      JAVA_OPTS_APPEND="$JVM_OPTS" \
      "$RUN_DIR/bin/kc.sh" start-dev --http-host=127.0.0.1 --http-port=0 --db=dev-file "$@" \
      >"$RUN_DIR/keycloak.log" 2>&1 </dev/null
  ) &
  KC_PID=$!
}

# Waits until Keycloak says where it listens and `path` answers there;
# prints the base URL.
wait_ready() {
  local path="$1" deadline=$((SECONDS + START_TIMEOUT)) url=""
  while [ $SECONDS -lt $deadline ]; do
    if ! kill -0 "$KC_PID" 2>/dev/null; then
      tail -n 40 "$RUN_DIR/keycloak.log" >&2 || true
      die "Keycloak exited during startup (log above, $RUN_DIR/keycloak.log)"
    fi
    if [ -z "$url" ]; then
      url="$(grep -o 'Listening on: http://127\.0\.0\.1:[0-9]*' "$RUN_DIR/keycloak.log" 2>/dev/null \
        | head -1 | sed 's/^Listening on: //' || true)"
    fi
    if [ -n "$url" ] && curl -fsS -o /dev/null --max-time 5 "$url$path" 2>/dev/null; then
      echo "$url"
      return 0
    fi
    sleep 0.25
  done
  tail -n 40 "$RUN_DIR/keycloak.log" >&2 || true
  die "Keycloak did not answer $path within ${START_TIMEOUT}s (log above)"
}

# Stops the server's whole process group: TERM, then KILL after 20 s.
stop_server() {
  [ -n "$KC_PID" ] || return 0
  local pid="$KC_PID" i
  KC_PID=""
  kill -TERM -- "-$pid" 2>/dev/null || true
  for i in $(seq 1 80); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# A directory that looks like a Keycloak home to kc.sh (which takes its home
# from its own location): a copy of kc.sh, the cached distribution's lib,
# conf, providers and themes by symlink, and a data directory of its own.
make_run_dir() {
  RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/kontor-keycloak.XXXXXX")"
  mkdir -p "$RUN_DIR/bin" "$RUN_DIR/data"
  cp "$HOME_DIR/bin/kc.sh" "$RUN_DIR/bin/kc.sh"
  local d
  for d in lib conf providers themes; do ln -s "$HOME_DIR/$d" "$RUN_DIR/$d"; done
}

# ------------------------------------------------------------------- ensure
fetch_and_unpack() {
  command -v mvn >/dev/null 2>&1 || die "mvn (Maven) is needed to fetch Keycloak (scripts/ensure-deps.sh installs it)"
  local tmp
  tmp="$(mktemp -d "$CACHE/.keycloak-$VERSION.XXXXXX")"
  log "fetching org.keycloak:keycloak-quarkus-dist:$VERSION (tar.gz, about 170 MB) with Maven"
  # Debian's Maven 3.8 prints colour resets even in batch mode: sed drops them.
  mvn -B -q -Dstyle.color=never dependency:copy \
    -Dartifact="org.keycloak:keycloak-quarkus-dist:$VERSION:tar.gz" \
    -DoutputDirectory="$tmp" </dev/null 2>&1 | sed -E 's/\x1b\[[0-9;]*m//g' >&2 \
    || die "Maven could not fetch org.keycloak:keycloak-quarkus-dist:$VERSION:tar.gz"
  log "unpacking into $HOME_DIR"
  tar -xzf "$tmp/keycloak-quarkus-dist-$VERSION.tar.gz" -C "$tmp"
  [ -x "$tmp/keycloak-$VERSION/bin/kc.sh" ] || die "the archive has no keycloak-$VERSION/bin/kc.sh"
  rm -rf "$HOME_DIR"
  mv "$tmp/keycloak-$VERSION" "$HOME_DIR"
  rm -rf "$tmp"
}

# The first start in the cache: Quarkus re-augments for dev mode with the
# dev-file database (kept in lib/quarkus), and Keycloak creates its schema,
# the master realm and the admin user, kept as the template database that
# every later start copies.
prepare() {
  local java="$1" url
  make_run_dir
  trap 'stop_server; rm -rf "$RUN_DIR"' EXIT
  log "first start in the cache (Quarkus build, schema, master realm; a minute or two)"
  KC_BOOTSTRAP_ADMIN_USERNAME="$ADMIN_USER" KC_BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    start_server "$java"
  url="$(wait_ready /realms/master)"
  log "prepared at $url; stopping"
  stop_server
  [ -f "$RUN_DIR/data/h2/keycloakdb.mv.db" ] || die "no H2 database after the first start"
  rm -rf "$HOME_DIR/kontor-template"
  mkdir -p "$HOME_DIR/kontor-template"
  cp -a "$RUN_DIR/data/h2" "$TEMPLATE_DB"
  rm -f "$TEMPLATE_DB"/*.trace.db
  rm -rf "$RUN_DIR"
  trap - EXIT
}

ensure() {
  mkdir -p "$CACHE"
  local java
  java="$(find_java)"
  # One preparation at a time (two test commands may start together).
  exec 8>"$CACHE/keycloak-$VERSION.lock"
  flock 8
  if [ ! -f "$READY_MARK" ]; then
    local started=$SECONDS
    fetch_and_unpack
    prepare "$java"
    touch "$READY_MARK"
    log "Keycloak $VERSION ready in the cache after $((SECONDS - started))s"
  fi
  flock -u 8
  exec 8>&-
  printf '%s\n' "$java"
}

# -------------------------------------------------------------------- serve
serve() {
  local exit_with_stdin=0 parent=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --exit-with-stdin) exit_with_stdin=1 ;;
      --exit-with-pid)
        parent="${2:-}"
        [[ "$parent" =~ ^[0-9]+$ ]] || die "serve: --exit-with-pid needs a process id"
        shift
        ;;
      *) die "serve: unknown option $1" ;;
    esac
    shift
  done
  [ -f "$REALM_FILE" ] || die "$REALM_FILE missing"
  local java url
  java="$(ensure)"
  make_run_dir
  cleanup() {
    stop_server
    if [ -n "$WATCHER" ]; then kill "$WATCHER" 2>/dev/null || true; fi
    if [ -n "$RUN_DIR" ]; then rm -rf "$RUN_DIR"; fi
    return 0
  }
  trap cleanup EXIT
  trap 'exit 143' TERM INT HUP
  mkdir -p "$RUN_DIR/data/import"
  cp "$REALM_FILE" "$RUN_DIR/data/import/"
  cp -a "$TEMPLATE_DB" "$RUN_DIR/data/h2"
  local started=$SECONDS
  start_server "$java" --import-realm
  url="$(wait_ready /realms/verwaltung/.well-known/openid-configuration)"
  log "Keycloak $VERSION at $url after $((SECONDS - started))s (realm verwaltung, log $RUN_DIR/keycloak.log)"
  printf '{"url":"%s","realm":"verwaltung","admin_user":"%s","admin_password":"%s"}\n' \
    "$url" "$ADMIN_USER" "$ADMIN_PASSWORD"
  if [ "$exit_with_stdin" -eq 1 ]; then
    # A background job's stdin is /dev/null unless redirected explicitly.
    exec 7<&0
    cat <&7 >/dev/null &
    WATCHER=$!
    exec 7<&-
  elif [ -n "$parent" ]; then
    while kill -0 "$parent" 2>/dev/null; do sleep 1; done &
    WATCHER=$!
  fi
  if [ -n "$WATCHER" ]; then
    # Returns when the watcher ends, when Keycloak exits, or on a signal.
    wait -n "$WATCHER" "$KC_PID" || true
  else
    wait "$KC_PID" || true
  fi
}

versions() {
  local java
  java="$(ensure)"
  printf 'Keycloak %s (%s)\n' "$(cat "$HOME_DIR/version.txt" | sed 's/.*Version //')" "$HOME_DIR"
  printf 'Java for Keycloak: %s (%s)\n' "$(java_version_line "$java")" "$java"
}

case "${1:-}" in
  ensure) shift; versions ;;
  serve) shift; serve "$@" ;;
  *) die "usage: $0 ensure | serve [--exit-with-stdin] [--exit-with-pid PID]" ;;
esac
