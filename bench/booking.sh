#!/usr/bin/env bash
# Booking throughput (see docs/benchmarks.md): how many bookings per second
# POST /api/v1/bookings accepts with 16 concurrent clients, all under one
# contract (serialised by its lock: the Kontingent check and the write are
# one transaction) and spread over 16 contracts of 16 customers. Each
# accepted booking is a real one: Kontingent check under the contract's
# lock, booking and period rows, provisioning outbox, audit entry with its
# hash chain — and the manifest renderer picks the environments up while
# the load runs.
#
#   1. cargo build --release --features bench-seed
#   2. fresh database kontor_bench_booking, `kontor seed bench` (×1)
#   3. the Kontingents of customers 1–16 raised so that no booking is
#      refused: a refusal (409) would measure the wrong thing
#   4. API tokens for bench-sp-1 … bench-sp-16, one application each
#   5. wrk, 16 threads × 1 connection, warm-up, then the measured run, once
#      with every client on customer 1's contract, once with client i on
#      customer i's; every answer must be 201
#
# Settings (environment): BENCH_PG_URL, BENCH_LISTEN (127.0.0.1:18082),
# BENCH_DURATION (20s), BENCH_WARMUP (5s), BENCH_CLIENTS (16),
# BENCH_DB_MAX_CONNECTIONS (16), BENCH_SKIP_BUILD=1, BENCH_RESULTS.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
DB_NAME=kontor_bench_booking
LISTEN="${BENCH_LISTEN:-127.0.0.1:18082}"
BASE="http://$LISTEN"
DURATION="${BENCH_DURATION:-20s}"
WARMUP="${BENCH_WARMUP:-5s}"
CLIENTS="${BENCH_CLIENTS:-16}"
DB_MAX_CONNECTIONS="${BENCH_DB_MAX_CONNECTIONS:-16}"
RESULTS="${BENCH_RESULTS:-$REPO_ROOT/bench/results-booking-$(date +%F).md}"
# shellcheck source=bench/lib.sh
. "$REPO_ROOT/bench/lib.sh"
require_loopback
need_tools curl psql
need_debian wrk
build_release
start_work bench-booking
server_env
export KONTOR_RATE_LIMIT_API_PER_MINUTE=0
export KONTOR_DATABASE_MAX_CONNECTIONS="$DB_MAX_CONNECTIONS"
cd "$WORK"

if curl -s -o /dev/null --max-time 1 "$BASE/healthz"; then
  die "something already listens on $LISTEN; stop it first"
fi
log "fresh database $DB_NAME"
psql "$PG_URL/postgres" -v ON_ERROR_STOP=1 -q \
  -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" \
  -c "CREATE DATABASE $DB_NAME" >/dev/null
"$KONTOR" seed bench >/dev/null
# Room for every booking of the run: the figures are for accepted bookings.
psql "$PG_URL/$DB_NAME" -v ON_ERROR_STOP=1 -q -c "UPDATE contracts SET
  max_millicpu = 1000000000000, max_memory_mib = 1000000000000,
  max_storage_gib = 1000000000000, monthly_budget_cents = 1000000000000000
  WHERE customer_id IN (SELECT customer_id FROM users WHERE login ~ '^bench-sp-([1-9]|1[0-6])$')"
: >"$WORK/callers"
for i in $(seq "$CLIENTS"); do
  token="$("$KONTOR" token create --user "bench-sp-$i" --name bench 2>/dev/null)"
  app="$(psql "$PG_URL/$DB_NAME" -Atc "SELECT a.id FROM applications a JOIN users u
    ON u.customer_id = a.customer_id WHERE u.login = 'bench-sp-$i' ORDER BY a.id LIMIT 1")"
  printf '%s %s\n' "$token" "$app" >>"$WORK/callers"
done
head -n1 "$WORK/callers" >"$WORK/callers-one"

log "kontor serve on $LISTEN (database pool $DB_MAX_CONNECTIONS)"
"$KONTOR" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
  curl -s -o /dev/null --max-time 1 "$BASE/healthz" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server did not start"; }
  sleep 0.1
done

to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000;
    printf "%.1f", n }'
}
secs="${DURATION%s}"
declare -A ACCEPTED P50 P99 STATUSES CPU_K
failed=0
for run in one sixteen; do
  callers="$WORK/callers"; [ "$run" = one ] && callers="$WORK/callers-one"
  log "$run: warm-up $WARMUP, then $DURATION with $CLIENTS clients"
  BENCH_CALLERS="$callers" wrk -t"$CLIENTS" -c"$CLIENTS" -d"$WARMUP" \
    -s "$REPO_ROOT/bench/booking.lua" "$BASE/" >/dev/null
  k0="$(ticks "$SERVER_PID")"
  out="$(BENCH_CALLERS="$callers" wrk -t"$CLIENTS" -c"$CLIENTS" -d"$DURATION" --timeout 10s \
    --latency -s "$REPO_ROOT/bench/booking.lua" "$BASE/")"
  k1="$(ticks "$SERVER_PID")"
  STATUSES[$run]="$(sed -n 's/^statuses: //p' <<<"$out")"
  created="$(tr ' ' '\n' <<<"${STATUSES[$run]}" | awk -F= '$1 == 201 { print $2 }')"
  others="$(tr ' ' '\n' <<<"${STATUSES[$run]}" | awk -F= '$1 != 201 && $2 != "" { n += $2 } END { print n + 0 }')"
  ACCEPTED[$run]="$(awk -v c="${created:-0}" -v s="$secs" 'BEGIN { printf "%.0f", c / s }')"
  P50[$run]="$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")"
  P99[$run]="$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")"
  CPU_K[$run]=$(( (k1 - k0) * 1000000 / HZ / (${created:-0} > 0 ? ${created:-0} : 1) ))
  log "$run: ${ACCEPTED[$run]} bookings/s, p50 ${P50[$run]} ms, p99 ${P99[$run]} ms, ${STATUSES[$run]}"
  if [ "$others" -ne 0 ] || [ -z "$created" ]; then
    log "FAILED: $run had answers other than 201 (${STATUSES[$run]}); its figures are void"
    failed=1
  fi
done

REV="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
{
  echo "# Booking throughput, $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "- Commit: $REV; release build; PostgreSQL $(psql "$PG_URL/postgres" -Atc 'SHOW server_version') on loopback"
  echo "- Machine: $(nproc) cores, wrk, Kontor and PostgreSQL share them; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- $CLIENTS clients (wrk threads, one connection each), $DURATION after $WARMUP warm-up; pool $DB_MAX_CONNECTIONS"
  echo
  echo "| contracts | accepted bookings/s | p50 (ms) | p99 (ms) | answers by status | Kontor CPU per booking (µs) |"
  echo "| --- | ---: | ---: | ---: | --- | ---: |"
  echo "| 1 (all clients on one contract) | ${ACCEPTED[one]} | ${P50[one]} | ${P99[one]} | ${STATUSES[one]} | ${CPU_K[one]} |"
  echo "| $CLIENTS (one contract per client) | ${ACCEPTED[sixteen]} | ${P50[sixteen]} | ${P99[sixteen]} | ${STATUSES[sixteen]} | ${CPU_K[sixteen]} |"
} | tee "$RESULTS"
exit "$failed"
