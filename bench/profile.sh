#!/usr/bin/env bash
# Where Kontor's CPU goes, in instructions that do not move with machine
# noise (see docs/benchmarks.md, "Profile"): runs the release build under
# valgrind's callgrind on the benchmark dataset and, per target, counts the
# instructions of N requests (sent one after another on one connection,
# after a warm-up), then prints the functions with the largest inclusive
# share and the share of sqlx's `Any` row conversion (`AnyRow::map_from`,
# what each PostgreSQL row is copied into before Kontor reads it).
#
# Needs valgrind (Debian package; installed if missing). Settings
# (environment): BENCH_PG_URL, BENCH_LISTEN (127.0.0.1:18083),
# BENCH_REQUESTS (200), BENCH_TARGETS (uebersicht api-tenant api-betreiber),
# BENCH_SKIP_BUILD=1, BENCH_RESULTS. The database kontor_bench_profile is
# seeded afresh (×1) and dropped at the end.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
DB_NAME=kontor_bench_profile
LISTEN="${BENCH_LISTEN:-127.0.0.1:18083}"
BASE="http://$LISTEN"
REQUESTS="${BENCH_REQUESTS:-200}"
read -r -a TARGETS <<<"${BENCH_TARGETS:-uebersicht api-tenant api-betreiber}"
RESULTS="${BENCH_RESULTS:-$REPO_ROOT/bench/results-profile-$(date +%F).md}"
KEEP="${BENCH_PROFILES:-$REPO_ROOT/target/profile}"
BENCH_NAME=profile
# shellcheck source=bench/lib.sh
. "$REPO_ROOT/bench/lib.sh"
require_loopback
need_debian valgrind
build_release
start_work profile
cleanup_extra() {
  psql "$PG_URL/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 || true
}
server_env
export KONTOR_RATE_LIMIT_API_PER_MINUTE=0
# The background jobs off: the counts are then the requests' alone. At
# start the reconciler renders 8,000 environments, which changed a count by
# a third.
quiet_background
cd "$WORK"

psql "$PG_URL/postgres" -v ON_ERROR_STOP=1 -q \
  -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >/dev/null
"$KONTOR" seed bench >/dev/null
TENANT_TOKEN="$("$KONTOR" token create --user bench-sp-1 --name profile 2>/dev/null)"
BETREIBER_TOKEN="$("$KONTOR" token create --user bench-betreiber --name profile 2>/dev/null)"

log "kontor serve under callgrind (instrumentation off until each target)"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/callgrind.out.%p" \
  "$KONTOR" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1200); do
  curl -s -o /dev/null --max-time 1 "$BASE/healthz" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server did not start"; }
  sleep 0.25
done

jar="$WORK/cookies"
curl -sf -c "$jar" -o "$WORK/login.html" "$BASE/anmelden"
csrf="$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$WORK/login.html" | sed -n 1p)"
curl -sf -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrf=$csrf" \
  --data-urlencode "login=bench-sp-1" "$BASE/anmelden" || true
COOKIE="kontor_session=$(awk '$6 == "kontor_session" { print $7 }' "$jar" | tail -n1)"

declare -A PATHS=([uebersicht]=/uebersicht [api-tenant]=/api/v1/bookings
  [api-betreiber]="/api/v1/bookings?limit=50" [healthz]=/healthz)
declare -A HEADER=([uebersicht]="Cookie: $COOKIE" [api-tenant]="Authorization: Bearer $TENANT_TOKEN"
  [api-betreiber]="Authorization: Bearer $BETREIBER_TOKEN" [healthz]="X-Profile: 1")
# N requests on one connection; every answer must be a 200.
send() { # target count
  local urls=() i
  for i in $(seq "$2"); do urls+=(-o /dev/null "$BASE${PATHS[$1]}"); done
  curl -s -H "${HEADER[$1]}" -w '%{http_code}\n' "${urls[@]}" | sort | uniq -c |
    awk -v t="$1" '$2 != 200 { bad = 1 } END { if (bad) { print "profile: " t ": answers other than 200" > "/dev/stderr"; exit 1 } }'
}
REV="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
{
  echo "# Callgrind profile, $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "Commit $REV, release build, PostgreSQL on loopback, dataset ×1; $REQUESTS requests per"
  echo "target on one connection after 20 of warm-up. Instructions (Ir) of the Kontor process"
  echo "only, with its background jobs switched off."
  echo
} >"$RESULTS"
for t in "${TARGETS[@]}"; do
  [ -n "${PATHS[$t]:-}" ] || die "unknown target $t"
  # Warm-up with instrumentation on (code is translated once), then the
  # counters zeroed, the requests, and a dump of just them.
  callgrind_control -i on "$SERVER_PID" >/dev/null 2>&1
  send "$t" 20
  callgrind_control -z "$SERVER_PID" >/dev/null 2>&1
  send "$t" "$REQUESTS"
  callgrind_control -d "$t" "$SERVER_PID" >/dev/null 2>&1
  callgrind_control -i off "$SERVER_PID" >/dev/null 2>&1
  out=""
  for _ in $(seq 100); do
    out="$(grep -l "^desc: Trigger: dump $t\$" "$WORK"/callgrind.out.* 2>/dev/null | head -n1 || true)"
    [ -n "$out" ] && grep -q '^totals:' "$out" && break
    sleep 0.2
  done
  [ -n "$out" ] || die "$t: no dump from callgrind"
  mv "$out" "$WORK/$t.cg"
  mkdir -p "$KEEP"
  cp "$WORK/$t.cg" "$KEEP/$t.cg"
  callgrind_annotate --inclusive=yes --threshold=100 "$WORK/$t.cg" 2>/dev/null >"$WORK/$t.txt"
  callgrind_annotate --threshold=100 "$WORK/$t.cg" 2>/dev/null >"$WORK/$t-self.txt"
  total="$(awk '/PROGRAM TOTALS/ { gsub(/,/, "", $1); print $1; exit }' "$WORK/$t.txt")"
  [ "${total:-0}" -gt 0 ] || die "$t: callgrind counted no instructions"
  # Inclusive costs of chosen functions: the most of any line naming them
  # (async wrappers repeat a callee's cost, so inclusive shares of the
  # framework's futures exceed 100 % and are not summed).
  incl() { awk -v re="$1" '$0 ~ re { gsub(/,/, "", $1); if ($1 + 0 > m) m = $1 + 0 } END { print m + 0 }' "$WORK/$t.txt"; }
  anyrow="$(incl 'for sqlx_core::any::row::AnyRow>::try_from|AnyRow::map_from')"
  fetch="$(incl 'AnyConnectionBackend for sqlx_postgres::connection::PgConnection>::fetch_(many|optional)')"
  render="$(incl 'as askama::Template>::render')"
  json="$(incl 'serde_json::ser::to_writer|serde_json::ser::to_vec|serde_json::to_vec|serde_json::to_writer')"
  {
    echo "## \`${PATHS[$t]}\`"
    echo
    awk -v t="$total" -v n="$REQUESTS" -v a="$anyrow" -v f="$fetch" -v r="$render" -v j="$json" 'BEGIN {
      printf "%d instructions per request. Inclusive shares: sqlx `Any` row conversion %.1f %%, ", t / n, 100 * a / t
      printf "sqlx `Any` fetch (query, rows, conversion) %.1f %%, askama rendering %.1f %%, JSON %.1f %%.\n\n", 100 * f / t, 100 * r / t, 100 * j / t }'
    echo "Functions by their own instructions (callgrind_annotate, exclusive):"
    echo
    echo '```'
    grep -E '^ *[0-9,]+ \(' "$WORK/$t-self.txt" | sed -n '1,25p' | cut -c1-170
    echo '```'
    echo
  } >>"$RESULTS"
  log "$t: $((total / REQUESTS)) instructions per request"
done
cat "$RESULTS"
