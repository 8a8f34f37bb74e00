#!/usr/bin/env bash
# How CPU per request grows from the default dataset to ten times it,
# measured so that the machine's own drift cancels out: two servers run at
# once, one on each dataset, and the targets are loaded in alternating short
# runs (×1, ×10, then ×10, ×1 in the next round, …). Each round gives a
# ratio; the report shows the median ratio and its range.
#
# Why: bench/compare-scales.sh measures ×1 and ×10 one after the other, a
# quarter of an hour apart. On a shared virtual machine the speed of the
# cores drifts by more than the 1.2× the ratio is held to (the same binary
# answered /healthz at 71,000 req/s in the morning and 25,000 in the
# afternoon of 2026-12-07), so a sequential ratio can say 1.5× for code that
# does the same work at both scales.
#
# Settings (environment):
#   BENCH_PG_URL        postgres://postgres@127.0.0.1:5432   (loopback only)
#   BENCH_ROUNDS        5        rounds of every target on both datasets
#   BENCH_DURATION      8s       each measured run, after BENCH_WARMUP (2s)
#   BENCH_CONNECTIONS   64       wrk connections (BENCH_THREADS 2)
#   BENCH_TARGETS       "uebersicht api-tenant api-betreiber"
#   BENCH_REUSE_DATA    0        1: keep kontor_side_x1 / _x10 if they exist
#   BENCH_SKIP_BUILD    0        1: use the release binary there is
#   BENCH_RESULTS       bench/results-<date>-side-by-side.md
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_NAME=side-by-side
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
LISTEN=127.0.0.1:18091
LISTEN_LARGE=127.0.0.1:18092
DB_NAME=kontor_side_x1
DB_LARGE=kontor_side_x10
ROUNDS="${BENCH_ROUNDS:-5}"
DURATION="${BENCH_DURATION:-8s}"
WARMUP="${BENCH_WARMUP:-2s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"
read -r -a TARGETS <<<"${BENCH_TARGETS:-uebersicht api-tenant api-betreiber}"
RESULTS="${BENCH_RESULTS:-$REPO_ROOT/bench/results-$(date +%F-%H%M)-side-by-side.md}"
# shellcheck source=bench/lib.sh
source "$REPO_ROOT/bench/lib.sh"

require_loopback
case "$LISTEN_LARGE" in 127.0.0.1:*) ;; *) die "the second server must listen on loopback" ;; esac
need_tools curl psql
need_debian wrk
build_release
start_work side-by-side

LARGE_PID=""
cleanup_extra() {
  if [ -n "$LARGE_PID" ]; then kill "$LARGE_PID" 2>/dev/null || true; fi
}

# --- data --------------------------------------------------------------------
# seed DB SCALE: a fresh database with the bench dataset at SCALE.
seed() {
  local db="$1" scale="$2"
  if [ "${BENCH_REUSE_DATA:-0}" = 1 ] &&
    [ "$(psql "$PG_URL/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ]; then
    log "reusing $db"
    return
  fi
  psql "$PG_URL/postgres" -v ON_ERROR_STOP=1 -q \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
  log "seeding $db (×$scale)"
  DB_NAME="$db" server_env
  "$KONTOR" seed bench --customers $((200 * scale)) --applications $((2000 * scale)) \
    --bookings $((20000 * scale)) >&2
}
seed "$DB_NAME" 1
seed "$DB_LARGE" 10

# --- servers -----------------------------------------------------------------
cd "$WORK"
export KONTOR_RATE_LIMIT_API_PER_MINUTE=0
quiet_background
# start DB LISTEN → the server's pid; its data directory is its own.
start() {
  (
    DB_NAME="$1" LISTEN="$2" server_env
    export KONTOR_DATA_DIR="$WORK/data-$1"
    exec "$KONTOR" serve >"$WORK/server-$1.log" 2>&1
  ) &
  echo $!
}
SERVER_PID="$(start "$DB_NAME" "$LISTEN")"
LARGE_PID="$(start "$DB_LARGE" "$LISTEN_LARGE")"
for listen in "$LISTEN" "$LISTEN_LARGE"; do
  for _ in $(seq 300); do
    curl -s -o /dev/null --max-time 1 "http://$listen/healthz" && break
    sleep 0.1
  done
  curl -sf -o /dev/null "http://$listen/healthz" || die "the server on $listen does not answer"
done

# login BASE USER → "kontor_session=…" (the demo login of the bench users).
login() {
  local jar="$WORK/jar-$RANDOM" csrf
  curl -sf -c "$jar" -o "$WORK/login.html" "$1/anmelden" || die "GET $1/anmelden failed"
  csrf="$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$WORK/login.html" | sed -n 1p)"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" -c "$jar" \
    --data-urlencode "csrf=$csrf" --data-urlencode "login=$2" "$1/anmelden")" = 303 ] ||
    die "demo login as $2 at $1 failed"
  echo "kontor_session=$(awk '$6 == "kontor_session" { print $7 }' "$jar" | tail -n1)"
}
token() { # DB USER
  DB_NAME="$1" server_env
  "$KONTOR" token create --user "$2" --name "side-$RANDOM" 2>/dev/null
}
declare -A BASE PID HEADER DB
for scale in 1 10; do
  if [ "$scale" = 1 ]; then db="$DB_NAME" listen="$LISTEN" pid="$SERVER_PID"; else db="$DB_LARGE" listen="$LISTEN_LARGE" pid="$LARGE_PID"; fi
  BASE[$scale]="http://$listen"; PID[$scale]="$pid"; DB[$scale]="$db"
  HEADER[uebersicht/$scale]="Cookie: $(login "${BASE[$scale]}" bench-sp-1)"
  HEADER[api-tenant/$scale]="Authorization: Bearer $(token "$db" bench-sp-1)"
  HEADER[api-betreiber/$scale]="Authorization: Bearer $(token "$db" bench-betreiber)"
done
declare -A PATHS=(
  [uebersicht]=/uebersicht
  [api-tenant]=/api/v1/bookings
  [api-betreiber]="/api/v1/bookings?limit=50"
)

# --- load --------------------------------------------------------------------
# measure TARGET SCALE → Kontor + PostgreSQL CPU per request in µs; fails on
# any answer that is not a 200.
measure() {
  local t="$1" s="$2" url out n statuses bad k0 k1 p0 p1 pg
  url="${BASE[$s]}${PATHS[$t]}"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "${HEADER[$t/$s]}" "$url" >/dev/null
  mapfile -t pg < <(pgrep -f "postgres: .*postgres ${DB[$s]} " || true)
  k0="$(ticks "${PID[$s]}")"; p0="$(ticks "${pg[@]}")"
  out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s \
    -s "$REPO_ROOT/bench/wrk-status.lua" -H "${HEADER[$t/$s]}" "$url")"
  mapfile -t pg < <(pgrep -f "postgres: .*postgres ${DB[$s]} " || true)
  k1="$(ticks "${PID[$s]}")"; p1="$(ticks "${pg[@]}")"
  n="$(awk '/requests in/ { print $1 }' <<<"$out")"
  statuses="$(sed -n 's/^statuses: //p' <<<"$out")"
  bad="$(tr ' ' '\n' <<<"$statuses" | awk -F= '$1 != 200 && $2 != "" { n += $2 } END { print n + 0 }')"
  [ -n "$statuses" ] && [ "$bad" = 0 ] && [ "${n:-0}" -gt 0 ] ||
    die "$t ×$s: answers other than 200 ($statuses)"
  echo $(( (k1 - k0 + p1 - p0) * 1000000 / HZ / n ))
}

declare -A RATIOS SMALL LARGE
for round in $(seq "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    # Alternate which dataset goes first, so a drift within a round does
    # not always favour the same one.
    if [ $((round % 2)) = 1 ]; then a="$(measure "$t" 1)"; b="$(measure "$t" 10)"
    else b="$(measure "$t" 10)"; a="$(measure "$t" 1)"; fi
    SMALL[$t]+="$a "; LARGE[$t]+="$b "
    RATIOS[$t]+="$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }') "
    log "round $round, $t: ×1 $a µs, ×10 $b µs"
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
range() { tr ' ' '\n' | grep . | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f–%.2f", lo, hi }'; }
REV="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
{
  echo "# CPU per request ×1 and ×10, side by side ($(date '+%Y-%m-%d %H:%M %Z'))"
  echo
  echo "- Commit: $REV; release build; PostgreSQL $(psql "$PG_URL/postgres" -Atc 'SHOW server_version') on loopback"
  echo "- Machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- $ROUNDS rounds; each run wrk $THREADS threads, $CONNECTIONS connections, $DURATION after $WARMUP warm-up; every answer 200"
  echo
  echo "| target | ×1 Kontor + PostgreSQL µs/req (median) | ×10 (median) | ratio, median of rounds | range |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for t in "${TARGETS[@]}"; do
    printf '| %s | %.0f | %.0f | %.2f× | %s |\n' "$t" \
      "$(median <<<"${SMALL[$t]}")" "$(median <<<"${LARGE[$t]}")" \
      "$(median <<<"${RATIOS[$t]}")" "$(range <<<"${RATIOS[$t]}")"
  done
  echo
  echo "Per round (×1 / ×10 µs):"
  for t in "${TARGETS[@]}"; do
    echo "- $t: ×1 ${SMALL[$t]}/ ×10 ${LARGE[$t]}"
  done
} | tee "$RESULTS"
