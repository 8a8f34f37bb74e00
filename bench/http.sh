#!/usr/bin/env bash
# HTTP load benchmark of Kontor on PostgreSQL (see docs/benchmarks.md).
#
#   1. cargo build --release --features bench-seed
#   2. fresh database kontor_bench (dropped if it exists), `kontor seed bench`
#      (200 customers, 2,000 applications, 20,000 bookings by default)
#   3. API tokens for bench-sp-1 (a tenant's Systempfleger:in) and bench-betreiber
#   4. `kontor serve` on 127.0.0.1:18080 (API rate limit off), demo logins as
#      bench-sp-1 and bench-betreiber for the browser sessions of the pages
#   5. wrk, 64 connections, 2 threads, --latency, against
#        /healthz                               trivial static handler: the ceiling
#        /uebersicht                            Übersicht page, session cookie
#        /api/v1/bookings                       tenant user, first page (50)
#        /api/v1/bookings?limit=50           Betreiber, all 20,000 bookings
#        /revision                              Revision page, tenant and Betreiber sessions
#        /api/v1/audit                          first page (50) of the Revision, tenant and Betreiber
#   6. a markdown table on stdout and in bench/results-<date>.md, with the
#      answers counted by status (bench/wrk-status.lua); the script fails
#      when any answer was not 200 or a socket failed: a run whose answers
#      are errors reports no speed
#
# Loopback only, bounded (about 2 minutes of load plus the build); the server
# is stopped at the end, also on error or Ctrl-C. Settings (environment):
#   BENCH_PG_URL          postgres://postgres@127.0.0.1:5432   (server, no database)
#   BENCH_DURATION        20s     per target
#   BENCH_WARMUP          5s      unrecorded run before each target
#   BENCH_CONNECTIONS     64      BENCH_THREADS 2
#   BENCH_DB_MAX_CONNECTIONS 16   KONTOR_DATABASE_MAX_CONNECTIONS of the server
#   BENCH_SCALE           1       multiplies the default dataset (10: 2,000
#                                 customers, 20,000 applications, 200,000 bookings)
#   BENCH_CUSTOMERS / BENCH_APPLICATIONS / BENCH_BOOKINGS   dataset size
#   BENCH_LISTEN          127.0.0.1:18080  (loopback address of the server)
#   BENCH_TARGETS         "healthz uebersicht api-tenant api-betreiber revision
#                         revision-betreiber audit-tenant audit-betreiber" (a subset; healthz always)
#   BENCH_RATE_LIMIT_API  0       the server's API limit per caller and minute (0:
#                                 off; the product's 600 answers most of a run
#                                 with 429, which the script then refuses)
#   BENCH_SKIP_BUILD=1    use the existing release build ($CARGO_TARGET_DIR or target/)
#   BENCH_RESULTS         output file (default bench/results-<date>.md)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
DB_NAME=kontor_bench
LISTEN="${BENCH_LISTEN:-127.0.0.1:18080}"
BASE="http://$LISTEN"
DURATION="${BENCH_DURATION:-20s}"
WARMUP="${BENCH_WARMUP:-5s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"
DB_MAX_CONNECTIONS="${BENCH_DB_MAX_CONNECTIONS:-16}"
SCALE="${BENCH_SCALE:-1}"
case "$SCALE" in ''|*[!0-9]*) echo "bench: BENCH_SCALE must be a whole number" >&2; exit 1 ;; esac
CUSTOMERS="${BENCH_CUSTOMERS:-$((200 * SCALE))}"
APPLICATIONS="${BENCH_APPLICATIONS:-$((2000 * SCALE))}"
BOOKINGS="${BENCH_BOOKINGS:-$((20000 * SCALE))}"
RESULTS="${BENCH_RESULTS:-$REPO_ROOT/bench/results-$(date +%F).md}"
# shellcheck source=bench/lib.sh
. "$REPO_ROOT/bench/lib.sh"
require_loopback

# --- tools -------------------------------------------------------------------
need_tools curl psql cargo
need_debian wrk

# --- build -------------------------------------------------------------------
build_release
start_work bench
server_env
# One caller makes thousands of requests a minute here; the shared rate
# limit (600 a minute per caller) would answer most of them with 429.
export KONTOR_RATE_LIMIT_API_PER_MINUTE=${BENCH_RATE_LIMIT_API:-0}
# The background jobs off (BENCH_BACKGROUND=1 keeps them): at start the
# reconciler renders every environment of the dataset while the targets are
# measured, and its statements would count as the requests'.
if [ "${BENCH_BACKGROUND:-0}" != 1 ]; then
  quiet_background
fi
export KONTOR_DATABASE_MAX_CONNECTIONS="$DB_MAX_CONNECTIONS"
cd "$WORK"

# --- database ----------------------------------------------------------------
if curl -s -o /dev/null --max-time 1 "$BASE/healthz"; then
  die "something already listens on $LISTEN; stop it first"
fi
log "fresh database $DB_NAME"
psql "$PG_URL/postgres" -v ON_ERROR_STOP=1 -q \
  -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" \
  -c "CREATE DATABASE $DB_NAME" >/dev/null
log "kontor seed bench --customers $CUSTOMERS --applications $APPLICATIONS --bookings $BOOKINGS"
SEED_SUMMARY="$("$KONTOR" seed bench --customers "$CUSTOMERS" --applications "$APPLICATIONS" --bookings "$BOOKINGS")"
printf '%s\n' "$SEED_SUMMARY" >&2
TENANT_TOKEN="$("$KONTOR" token create --user bench-sp-1 --name bench 2>/dev/null)"
BETREIBER_TOKEN="$("$KONTOR" token create --user bench-betreiber --name bench 2>/dev/null)"

# --- server ------------------------------------------------------------------
log "kontor serve on $LISTEN (database pool $DB_MAX_CONNECTIONS)"
"$KONTOR" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
  curl -s -o /dev/null --max-time 1 "$BASE/healthz" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server did not start"; }
  sleep 0.1
done
curl -sf -o /dev/null "$BASE/healthz" || die "the server does not answer /healthz"

TARGETS=(${BENCH_TARGETS:-healthz uebersicht api-tenant api-betreiber revision revision-betreiber audit-tenant audit-betreiber})
wants() { [[ " ${TARGETS[*]} " == *" $1 "* ]]; }
wants healthz || TARGETS=(healthz "${TARGETS[@]}")

# Browser sessions: GET /anmelden gives the session cookie and the CSRF field,
# POST /anmelden logs in as a demo user (bench-sp-1, bench-betreiber).
login() { # user → "kontor_session=…"
  local jar="$WORK/cookies-$1" csrf status session
  curl -sf -c "$jar" -o "$WORK/login.html" "$BASE/anmelden" || die "GET /anmelden failed"
  csrf="$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$WORK/login.html" | sed -n 1p)"
  [ -n "$csrf" ] || die "no CSRF field on /anmelden"
  status="$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" -c "$jar" \
    --data-urlencode "csrf=$csrf" --data-urlencode "login=$1" "$BASE/anmelden")"
  [ "$status" = 303 ] || die "demo login as $1 answered $status, expected 303"
  session="$(awk '$6 == "kontor_session" { print $7 }' "$jar" | tail -n1)"
  [ -n "$session" ] || die "no kontor_session cookie after login as $1"
  echo "kontor_session=$session"
}
COOKIE="X-No-Session: 1"
COOKIE_BETREIBER="X-No-Session: 1"
if wants uebersicht || wants revision; then COOKIE="$(login bench-sp-1)"; fi
if wants revision-betreiber; then COOKIE_BETREIBER="$(login bench-betreiber)"; fi

# Every target must answer 200 with the expected content before it is loaded.
check() { # name url header expected-substring
  local body
  body="$(curl -sf -H "$3" "$BASE$2")" || die "$1: $2 does not answer 200"
  grep -q -- "$4" <<<"$body" || die "$1: $2 does not contain $4"
}
check healthz /healthz "X-Bench: 1" "ok"
if wants uebersicht; then check uebersicht /uebersicht "Cookie: $COOKIE" "Übersicht"; fi
check api-tenant /api/v1/bookings "Authorization: Bearer $TENANT_TOKEN" '"total":'
check api-betreiber "/api/v1/bookings?limit=50" "Authorization: Bearer $BETREIBER_TOKEN" "\"total\":$BOOKINGS"
if wants revision; then check revision /revision "Cookie: $COOKIE" "Einträge, die neuesten zuerst"; fi
if wants revision-betreiber; then check revision-betreiber /revision "Cookie: $COOKIE_BETREIBER" "Kopf der Kette"; fi
if wants audit-tenant; then check audit-tenant /api/v1/audit "Authorization: Bearer $TENANT_TOKEN" '"next":'; fi
if wants audit-betreiber; then check audit-betreiber /api/v1/audit "Authorization: Bearer $BETREIBER_TOKEN" '"next":'; fi
TENANT_TOTAL="$(curl -sf -H "Authorization: Bearer $TENANT_TOKEN" "$BASE/api/v1/bookings" | grep -o '"total":[0-9]*' | cut -d: -f2)"

# Other work on the machine skews the figures: measure how busy it is for
# 3 s while the server idles, and note it in the report.
cpu_sample() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }
read -r busy0 idle0 < <(cpu_sample); sleep 3; read -r busy1 idle1 < <(cpu_sample)
OTHER_BUSY="$(awk -v b=$((busy1 - busy0)) -v i=$((idle1 - idle0)) 'BEGIN { printf "%.0f", 100 * b / (b + i) }')"
LOADAVG="$(cut -d' ' -f1-3 /proc/loadavg)"
log "other processes used $OTHER_BUSY % of the CPU in the last 3 s"

# --- load --------------------------------------------------------------------
# wrk prints latencies as 812.00us, 1.23ms, 1.02s; convert to ms.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
    printf "%.2f", n }'
}
declare -A RPS P50 P99 ERRORS CPU_K CPU_PG STATUSES STMTS
# Transactions of the benchmark database so far. A page's reads run outside
# an explicit transaction, so each statement is one; divided by the requests
# this is the statements per request (the background jobs add a few per
# second). Backends report them when idle, within PostgreSQL's idle stats
# interval of 10 s, hence the wait before each reading.
xacts() {
  sleep 11
  psql "$PG_URL/postgres" -Atc "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$DB_NAME'"
}
declare -A LABEL=(
  [healthz]='`GET /healthz` (static, ceiling)'
  [uebersicht]='`GET /uebersicht` (bench-sp-1, session)'
  [api-tenant]='`GET /api/v1/bookings` (bench-sp-1, token)'
  [api-betreiber]='`GET /api/v1/bookings?limit=50` (Betreiber, all)'
  [revision]='`GET /revision` (bench-sp-1, session)'
  [revision-betreiber]='`GET /revision` (Betreiber, session, all entries)'
  [audit-tenant]='`GET /api/v1/audit` (bench-sp-1, token)'
  [audit-betreiber]='`GET /api/v1/audit` (Betreiber, token, all entries)'
)
declare -A PATHS=(
  [healthz]=/healthz
  [uebersicht]=/uebersicht
  [api-tenant]=/api/v1/bookings
  [api-betreiber]="/api/v1/bookings?limit=50"
  [revision]=/revision
  [revision-betreiber]=/revision
  [audit-tenant]=/api/v1/audit
  [audit-betreiber]=/api/v1/audit
)
declare -A HEADER=(
  [healthz]="X-Bench: 1"
  [uebersicht]="Cookie: $COOKIE"
  [api-tenant]="Authorization: Bearer $TENANT_TOKEN"
  [api-betreiber]="Authorization: Bearer $BETREIBER_TOKEN"
  [revision]="Cookie: $COOKIE"
  [revision-betreiber]="Cookie: $COOKIE_BETREIBER"
  [audit-tenant]="Authorization: Bearer $TENANT_TOKEN"
  [audit-betreiber]="Authorization: Bearer $BETREIBER_TOKEN"
)
for t in "${TARGETS[@]}"; do
  url="$BASE${PATHS[$t]}"
  log "$t: warm-up $WARMUP, then $DURATION at $CONNECTIONS connections"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "${HEADER[$t]}" "$url" >/dev/null
  # CPU per request of the server and of its PostgreSQL backends: unlike
  # req/s, barely moved by other work on the machine.
  # (Backends the pool opens during the run count in full.)
  x0="$(xacts)"
  mapfile -t PG_BEFORE < <(pgrep -f "postgres: .*postgres $DB_NAME " || true)
  k0="$(ticks "$SERVER_PID")"; p0="$(ticks "${PG_BEFORE[@]}")"
  out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency \
    -s "$REPO_ROOT/bench/wrk-status.lua" -H "${HEADER[$t]}" "$url")"
  mapfile -t PG_AFTER < <(pgrep -f "postgres: .*postgres $DB_NAME " || true)
  k1="$(ticks "$SERVER_PID")"; p1="$(ticks "${PG_AFTER[@]}")"
  printf '%s\n' "$out" >"$WORK/wrk-$t.txt"
  n="$(awk '/requests in/ { print $1 }' <<<"$out")"
  x1="$(xacts)"
  # One decimal: the background jobs' few statements should not round up.
  STMTS[$t]="$(awk -v d="$((x1 - x0 - 1))" -v n="$n" 'BEGIN { printf "%.1f", (n > 0 ? d / n : 0) }')"
  CPU_K[$t]=$(( (k1 - k0) * 1000000 / HZ / (n > 0 ? n : 1) ))
  CPU_PG[$t]=$(( (p1 - p0) * 1000000 / HZ / (n > 0 ? n : 1) ))
  RPS[$t]="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")"
  P50[$t]="$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")"
  P99[$t]="$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out")"
  sockerr="$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' <<<"$out")"
  STATUSES[$t]="$(sed -n 's/^statuses: //p' <<<"$out")"
  # Every answer must be a 200: anything else (a 429 of a rate limit, a
  # 503, a redirect to the login) means the figures measure the wrong thing.
  not200="$(tr ' ' '\n' <<<"${STATUSES[$t]}" | awk -F= '$1 != 200 && $2 != "" { n += $2 } END { print n + 0 }')"
  ERRORS[$t]=$(( not200 + ${sockerr:-0} ))
  [ -n "${STATUSES[$t]}" ] || ERRORS[$t]=$(( ERRORS[$t] + ${non2xx:-0} + 1 ))
  log "$t: ${RPS[$t]} req/s, p50 ${P50[$t]} ms, p99 ${P99[$t]} ms, errors ${ERRORS[$t]}, CPU/request: kontor ${CPU_K[$t]} µs, PostgreSQL ${CPU_PG[$t]} µs, statements/request ${STMTS[$t]}"
done

# --- report ------------------------------------------------------------------
CEILING="${RPS[healthz]}"
CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
MEM="$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
PG_VERSION="$(psql "$PG_URL/postgres" -Atc 'SHOW server_version')"
REV="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
DIRTY="$(git -C "$REPO_ROOT" status --porcelain 2>/dev/null | grep -q . && echo ' (with uncommitted changes)' || true)"
{
  echo "# Kontor HTTP benchmark, $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "- Commit: $REV$DIRTY; release build; PostgreSQL $PG_VERSION on loopback"
  echo "- Machine: $(nproc) cores ($CPU), $MEM; wrk and Kontor share these cores"
  echo "- Load: wrk $THREADS threads, $CONNECTIONS connections, $DURATION per target after $WARMUP warm-up"
  echo "- Server: KONTOR_DATABASE_MAX_CONNECTIONS=$DB_MAX_CONNECTIONS"
  echo "- Before the runs: other processes used $OTHER_BUSY % of the CPU (3 s sample); load average $LOADAVG"
  echo "- Dataset: $CUSTOMERS customers, $APPLICATIONS applications, $BOOKINGS bookings; bench-sp-1 sees $TENANT_TOTAL bookings"
  echo
  if [ "$OTHER_BUSY" -gt 10 ]; then
    echo "> **The machine was busy**: other processes used $OTHER_BUSY % of the CPU before"
    echo "> the runs and took CPU from wrk, Kontor and PostgreSQL; req/s and latencies"
    echo "> are lower bounds. The CPU columns are less affected."
    echo
  fi
  echo "| target | req/s | p50 (ms) | p99 (ms) | % of ceiling | answers by status | errors | Kontor CPU/req (µs) | PostgreSQL CPU/req (µs) | statements/req |"
  echo "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |"
  for t in "${TARGETS[@]}"; do
    pct="$(awk -v a="${RPS[$t]}" -v b="$CEILING" 'BEGIN { printf "%.1f %%", 100 * a / b }')"
    echo "| ${LABEL[$t]} | ${RPS[$t]} | ${P50[$t]} | ${P99[$t]} | $pct | ${STATUSES[$t]:-?} | ${ERRORS[$t]} | ${CPU_K[$t]} | ${CPU_PG[$t]} | ${STMTS[$t]} |"
  done
  echo
  echo "Kontor CPU: the server process. PostgreSQL CPU: the pool's backends only, without the"
  echo "kernel's loopback networking; it varies more between runs. Statements: the database's"
  echo "transactions during the run per request (each read outside a transaction is one)."
  echo
  echo "Seed: $SEED_SUMMARY" | tr '\n' ' '
  echo
} | tee "$RESULTS"
log "written to $RESULTS"
# The figures of each target, one line each, for bench/compare-scales.sh.
for t in "${TARGETS[@]}"; do
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "${RPS[$t]}" "${P99[$t]}" "${CPU_K[$t]}" "${CPU_PG[$t]}" "${ERRORS[$t]}" "${STMTS[$t]}"
done >"${RESULTS%.md}.tsv"
failed=0
for t in "${TARGETS[@]}"; do
  if [ "${ERRORS[$t]}" -ne 0 ]; then
    log "FAILED: $t had ${ERRORS[$t]} answers other than 200 (${STATUSES[$t]:-no status count}); its figures are void"
    failed=1
  fi
done
exit "$failed"
