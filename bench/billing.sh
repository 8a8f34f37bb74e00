#!/usr/bin/env bash
# Billing benchmark of Kontor on PostgreSQL (see docs/benchmarks.md,
# "Billing run and CSV export").
#
#   1. cargo build --release --features bench-seed
#   2. fresh database kontor_bench_billing (dropped if it exists),
#      `kontor seed bench` (200 customers, 2,000 applications, 20,000 bookings)
#   3. billing run: `kontor billing close --month M` for the previous calendar
#      month (Europe/Berlin), timed with /usr/bin/time -v
#   4. export of the month as it is (German format)
#   5. the month's lines copied by SQL inside the same statements until the
#      month has >= BENCH_SUBSET_LINES (100,000) lines; export again
#   6. copied further to >= BENCH_LINES (1,000,000) lines; export, German and
#      rfc4180, next to PostgreSQL's own COPY ... TO STDOUT (FORMAT csv) of
#      the same rows through psql: raw columns in Kontor's order (the floor),
#      raw columns without ORDER BY, and formatted in SQL like Kontor's
#      rfc4180 export
#   7. the same export through HTTP: `kontor serve`, GET
#      /api/v1/statements/M/csv as bench-betreiber, the server's peak RSS
#   8. a markdown table on stdout and in bench/results-billing-<date>.md
#
# The extra lines are copies of the month's real lines (line_no + k * 10^7);
# the statements' totals and line counts do not match them any more, which
# does not matter for export throughput.
#
# Loopback only, bounded (each step has a time limit; about 1 minute after
# the build); the server is stopped, the database dropped and the temporary
# files removed on exit, error or Ctrl-C. Settings (environment):
#   BENCH_PG_URL          postgres://postgres@127.0.0.1:5432   (server, no database)
#   BENCH_MONTH           YYYY-MM   (default: previous month in Europe/Berlin)
#   BENCH_LINES           1000000   line items of the big export (at least)
#   BENCH_SUBSET_LINES    100000    line items of the middle export (at least)
#   BENCH_RUNS            2         measured runs per export (best wall reported)
#   BENCH_HTTP            1         0 skips the HTTP export
#   BENCH_LISTEN          127.0.0.1:18081  (loopback address of the server)
#   BENCH_STEP_TIMEOUT    900       seconds, limit of any one timed command
#   BENCH_CUSTOMERS / BENCH_APPLICATIONS / BENCH_BOOKINGS   dataset size
#   BENCH_SKIP_BUILD=1    use the existing release build ($CARGO_TARGET_DIR, else target/)
#   BENCH_KEEP_DB=1       keep the database kontor_bench_billing afterwards
#   BENCH_RESULTS         output file (default bench/results-billing-<date>.md)
set -euo pipefail
export LC_NUMERIC=C

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
DB_NAME=kontor_bench_billing
LISTEN="${BENCH_LISTEN:-127.0.0.1:18081}"
BASE="http://$LISTEN"
LINES="${BENCH_LINES:-1000000}"
SUBSET_LINES="${BENCH_SUBSET_LINES:-100000}"
RUNS="${BENCH_RUNS:-2}"
HTTP="${BENCH_HTTP:-1}"
STEP_TIMEOUT="${BENCH_STEP_TIMEOUT:-900}"
CUSTOMERS="${BENCH_CUSTOMERS:-200}"
APPLICATIONS="${BENCH_APPLICATIONS:-2000}"
BOOKINGS="${BENCH_BOOKINGS:-20000}"
RESULTS="${BENCH_RESULTS:-$REPO_ROOT/bench/results-billing-$(date +%F).md}"
STRIDE=10000000

# shellcheck source=bench/lib.sh
. "$REPO_ROOT/bench/lib.sh"

require_loopback
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"
[[ "$LINES" =~ ^[0-9]+$ && "$SUBSET_LINES" =~ ^[0-9]+$ ]] || die "BENCH_LINES and BENCH_SUBSET_LINES must be numbers"

# The previous calendar month in Berlin (the month the bench data is densest
# in that can be closed).
if [ -n "${BENCH_MONTH:-}" ]; then
  MONTH="$BENCH_MONTH"
else
  MONTH="$(TZ=Europe/Berlin date -d "$(TZ=Europe/Berlin date +%Y-%m-01) -1 month" +%Y-%m)"
fi
[[ "$MONTH" =~ ^[0-9]{4}-(0[1-9]|1[0-2])$ ]] || die "BENCH_MONTH must be YYYY-MM (got $MONTH)"

# --- tools -------------------------------------------------------------------
need_tools psql cargo timeout awk
[ "$HTTP" = 1 ] && { command -v curl >/dev/null 2>&1 || die "curl is missing (or set BENCH_HTTP=0)"; }
need_debian /usr/bin/time time

# --- build -------------------------------------------------------------------
build_release
start_work bench-billing
DB_CREATED=0
cleanup_extra() {
  if [ -n "${SAMPLER_PID:-}" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
  if [ "$DB_CREATED" = 1 ] && [ "${BENCH_KEEP_DB:-0}" != 1 ]; then
    psql "$PG_URL/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 \
      || log "could not drop database $DB_NAME"
  fi
}
server_env
# The other background jobs off too, so the server's peak memory is the
# download's, not the reconciler's, which renders the dataset's 8,000
# environments after the start while the downloads run.
quiet_background
unset RUST_LOG
cd "$WORK"

DB_URL="$PG_URL/$DB_NAME"
sql() { psql "$DB_URL" -v ON_ERROR_STOP=1 -qAt "$@"; }

# --- measuring ---------------------------------------------------------------
# CPU of PostgreSQL's backends: a sampler reads utime + stime
# (/proc/<pid>/stat) of every backend of the benchmark database, and of their
# parallel workers, every 0.1 s while a command runs. A backend that exists at
# the start counts from its value then, a new one from 0. CPU a backend uses
# in its last 0.1 s before it exits is missed; other databases on the same
# server (and autovacuum) do not count.
pg_sampler() { # OUT-FILE; stops on TERM and writes the sum of ticks
  local out="$1" line pid f pids parents
  local -A first last
  local started=0
  trap 'sum=0; for pid in "${!last[@]}"; do sum=$((sum + last[$pid] - ${first[$pid]:-0})); done; echo "$sum" >"$out"; exit 0' TERM
  while :; do
    pids=(); parents=()
    while read -r pid line; do
      line="${line%"${line##*[! ]}"}"
      if [[ "$line" == "postgres: "*" postgres $DB_NAME "* ]]; then
        pids+=("$pid"); parents+=("$pid")
      elif [[ "$line" == *"parallel worker for PID "* ]]; then
        pids+=("${line##* }:$pid")
      fi
    done < <(pgrep -a -f '^postgres: ')
    for pid in "${pids[@]}"; do
      if [[ "$pid" == *:* ]]; then  # a parallel worker: only of our backends
        [[ " ${parents[*]} " == *" ${pid%%:*} "* ]] || continue
        pid="${pid#*:}"
      fi
      read -r -a f <"/proc/$pid/stat" 2>/dev/null || continue
      last[$pid]=$((f[13] + f[14]))
      [ "$started" = 1 ] || first[$pid]="${last[$pid]}"
    done
    started=1
    sleep 0.1
  done
}
SAMPLER_PID=""
pg_cpu_start() { pg_sampler "$WORK/pgcpu" & SAMPLER_PID=$!; sleep 0.15; }
pg_cpu_stop() { # sets PG_CPU (seconds); not in a subshell: it waits for the sampler
  kill -TERM "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=""
  PG_CPU="$(awk -v hz="$HZ" '{ printf "%.2f", $1 / hz }' "$WORK/pgcpu")"
  rm -f "$WORK/pgcpu"
}
# Waits until no backend of the benchmark database is left, so that every run
# starts alike.
backends_gone() {
  for _ in $(seq 100); do
    pgrep -f "^postgres: .* postgres $DB_NAME " >/dev/null 2>&1 || return 0
    sleep 0.1
  done
  log "a backend of $DB_NAME is still running"
}

declare -A WALL RSS CPU PGCPU
# measure NAME COMMAND... : runs the command under /usr/bin/time -v with a
# time limit; stdout of the command is the stdout of measure.
measure() {
  local name="$1" t0 t1 rc=0
  shift
  backends_gone
  pg_cpu_start
  t0="$EPOCHREALTIME"
  timeout "$STEP_TIMEOUT" /usr/bin/time -v -o "$WORK/time-$name.txt" "$@" || rc=$?
  t1="$EPOCHREALTIME"
  pg_cpu_stop
  PGCPU[$name]="$PG_CPU"
  [ "$rc" = 0 ] || { [ "$rc" = 124 ] && die "$name: over the limit of $STEP_TIMEOUT s"; die "$name: exit status $rc"; }
  WALL[$name]="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
  RSS[$name]="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time-$name.txt")"
  CPU[$name]="$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$WORK/time-$name.txt")"
}

# Other work on the machine skews wall times: how busy is it without us?
cpu_sample() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }
other_busy() {
  local busy0 idle0 busy1 idle1
  read -r busy0 idle0 < <(cpu_sample); sleep 3; read -r busy1 idle1 < <(cpu_sample)
  awk -v b=$((busy1 - busy0)) -v i=$((idle1 - idle0)) 'BEGIN { printf "%.0f", 100 * b / (b + i) }'
}

# --- database ----------------------------------------------------------------
if [ "$HTTP" = 1 ] && curl -s -o /dev/null --max-time 1 "$BASE/healthz"; then
  die "something already listens on $LISTEN; stop it first (or set BENCH_LISTEN)"
fi
log "fresh database $DB_NAME"
psql "$PG_URL/postgres" -v ON_ERROR_STOP=1 -q \
  -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" \
  -c "CREATE DATABASE $DB_NAME" >/dev/null
DB_CREATED=1
log "kontor seed bench --customers $CUSTOMERS --applications $APPLICATIONS --bookings $BOOKINGS"
t0="$EPOCHREALTIME"
SEED_SUMMARY="$(timeout "$STEP_TIMEOUT" "$KONTOR" seed bench --customers "$CUSTOMERS" --applications "$APPLICATIONS" --bookings "$BOOKINGS")"
SEED_WALL="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
printf '%s\n' "$SEED_SUMMARY" >&2

# The month in Unix seconds (Berlin midnights), and how much it holds.
read -r M_START M_END < <(sql -F' ' -c "SELECT
    extract(epoch FROM ('$MONTH-01'::date::timestamp AT TIME ZONE 'Europe/Berlin'))::bigint,
    extract(epoch FROM (('$MONTH-01'::date + interval '1 month')::timestamp AT TIME ZONE 'Europe/Berlin'))::bigint")
read -r M_BOOKINGS M_PERIODS < <(sql -F' ' -c "SELECT count(DISTINCT booking_id), count(*) FROM booking_periods
    WHERE starts_at < $M_END AND (ends_at IS NULL OR ends_at > $M_START)")
log "month $MONTH: $M_BOOKINGS bookings with $M_PERIODS booking periods in it"
[ "$M_BOOKINGS" -gt 0 ] || die "no booking is active in $MONTH"

OTHER_BUSY="$(other_busy)"
LOADAVG="$(cut -d' ' -f1-3 /proc/loadavg)"
log "other processes used $OTHER_BUSY % of the CPU in the last 3 s (load average $LOADAVG)"

# --- billing run -------------------------------------------------------------
log "kontor billing close --month $MONTH"
measure close "$KONTOR" billing close --month "$MONTH" >"$WORK/close.out"
CLOSE_OUT="$(cat "$WORK/close.out")"
log "$CLOSE_OUT (${WALL[close]} s)"
read -r N_STATEMENTS N_LINES0 < <(sql -F' ' -c "SELECT count(DISTINCT s.id), count(l.*) FROM statements s
    LEFT JOIN statement_lines l ON l.statement_id = s.id WHERE s.month = '$MONTH'")
REPORTED="$(grep -o '[0-9]* Abrechnung(en) abgeschlossen ([0-9]* Positionen)' <<<"$CLOSE_OUT" || true)"
[ -n "$REPORTED" ] || die "unexpected output of kontor billing close: $CLOSE_OUT"
[ "$N_LINES0" -gt 0 ] || die "the billing run wrote no line items"
CONTRACTS_VALID="$(sql -c "SELECT count(*) FROM contracts WHERE valid_from <= '$MONTH-31' AND valid_until >= '$MONTH-01'")"

# --- exports -------------------------------------------------------------------
declare -A ROWS BYTES RUNS_WALL
csv_rows() { # file header-lines
  echo $(( $(wc -l <"$1") - $2 ))
}
# export_run NAME FORMAT : BENCH_RUNS runs of the CLI export of the month;
# keeps the run with the best wall time (peak RSS: the highest of all runs).
export_run() {
  local name="$1" format="$2" i best="" run rss_max=0 args=()
  [ "$format" = rfc4180 ] && args=(--format rfc4180)
  RUNS_WALL[$name]=""
  for i in $(seq "$RUNS"); do
    run="$name#$i"
    measure "$run" "$KONTOR" billing export --month "$MONTH" "${args[@]}" --out "$WORK/$name.csv"
    RUNS_WALL[$name]+="${RUNS_WALL[$name]:+ / }${WALL[$run]}"
    [ "${RSS[$run]}" -gt "$rss_max" ] && rss_max="${RSS[$run]}"
    if [ -z "$best" ] || awk -v a="${WALL[$run]}" -v b="${WALL[$best]}" 'BEGIN { exit !(a < b) }'; then best="$run"; fi
  done
  WALL[$name]="${WALL[$best]}"; CPU[$name]="${CPU[$best]}"; PGCPU[$name]="${PGCPU[$best]}"; RSS[$name]="$rss_max"
  local header=1
  ROWS[$name]="$(csv_rows "$WORK/$name.csv" "$header")"
  BYTES[$name]="$(stat -c %s "$WORK/$name.csv")"
  log "$name: ${ROWS[$name]} rows, ${BYTES[$name]} bytes, wall ${RUNS_WALL[$name]} s, peak RSS $rss_max KiB"
}

# copy_run NAME SQL : BENCH_RUNS runs of psql's COPY ... TO STDOUT.
copy_run() {
  local name="$1" query="$2" i best="" run rss_max=0
  RUNS_WALL[$name]=""
  for i in $(seq "$RUNS"); do
    run="$name#$i"
    measure "$run" psql "$DB_URL" -v ON_ERROR_STOP=1 -qX -c "SET timezone = 'Europe/Berlin'" -c "$query" >"$WORK/$name.csv"
    RUNS_WALL[$name]+="${RUNS_WALL[$name]:+ / }${WALL[$run]}"
    [ "${RSS[$run]}" -gt "$rss_max" ] && rss_max="${RSS[$run]}"
    if [ -z "$best" ] || awk -v a="${WALL[$run]}" -v b="${WALL[$best]}" 'BEGIN { exit !(a < b) }'; then best="$run"; fi
  done
  WALL[$name]="${WALL[$best]}"; CPU[$name]="${CPU[$best]}"; PGCPU[$name]="${PGCPU[$best]}"; RSS[$name]="$rss_max"
  ROWS[$name]="$(csv_rows "$WORK/$name.csv" 0)"
  BYTES[$name]="$(stat -c %s "$WORK/$name.csv")"
  log "$name: ${ROWS[$name]} rows, ${BYTES[$name]} bytes, wall ${RUNS_WALL[$name]} s"
}

month_lines() { sql -c "SELECT count(*) FROM statement_lines l JOIN statements s ON s.id = l.statement_id WHERE s.month = '$MONTH'"; }

# duplicate UPTO : copies the month's real lines k = FROM..UPTO-1 times more,
# so that the month has N_LINES0 * UPTO lines.
COPIES_DONE=1
DUP_WALL=0
duplicate() {
  local upto="$1" t0
  [ "$upto" -gt "$COPIES_DONE" ] || return 0
  log "copying the month's $N_LINES0 lines $((upto - COPIES_DONE)) times more (to $((N_LINES0 * upto)) lines)"
  t0="$EPOCHREALTIME"
  timeout "$STEP_TIMEOUT" psql "$DB_URL" -v ON_ERROR_STOP=1 -qX \
    -c "INSERT INTO statement_lines (statement_id, line_no, kind, booking_id, application_name, stage,
          product_name, size, starts_at, ends_at, seconds, rate, amount_cents)
        SELECT l.statement_id, l.line_no + k * $STRIDE, l.kind, l.booking_id, l.application_name, l.stage,
          l.product_name, l.size, l.starts_at, l.ends_at, l.seconds, l.rate, l.amount_cents
        FROM statement_lines l JOIN statements s ON s.id = l.statement_id
        CROSS JOIN generate_series($COPIES_DONE, $((upto - 1))) k
        WHERE s.month = '$MONTH' AND l.line_no < $STRIDE" \
    -c "VACUUM ANALYZE statement_lines" -c "VACUUM ANALYZE statements" -c "CHECKPOINT" >/dev/null
  DUP_WALL="$(awk -v a="$t0" -v b="$EPOCHREALTIME" -v d="$DUP_WALL" 'BEGIN { printf "%.1f", d + b - a }')"
  COPIES_DONE="$upto"
}

MAX_LINE_NO="$(sql -c "SELECT max(line_no) FROM statement_lines l JOIN statements s ON s.id = l.statement_id WHERE s.month = '$MONTH'")"
[ "$MAX_LINE_NO" -lt "$STRIDE" ] || die "a statement has $MAX_LINE_NO lines; the copies' line numbers would collide"

log "export of the month as closed ($N_LINES0 lines)"
export_run small german

SUBSET_COPIES=$(( (SUBSET_LINES + N_LINES0 - 1) / N_LINES0 ))
BIG_COPIES=$(( (LINES + N_LINES0 - 1) / N_LINES0 ))
[ "$BIG_COPIES" -gt "$SUBSET_COPIES" ] || die "BENCH_LINES must be well above BENCH_SUBSET_LINES"
if [ "$SUBSET_COPIES" -gt 1 ]; then
  duplicate "$SUBSET_COPIES"
  log "export of $(month_lines) lines"
  export_run subset german
fi

duplicate "$BIG_COPIES"
N_LINES="$(month_lines)"
TABLE_SIZE="$(sql -c "SELECT pg_size_pretty(pg_total_relation_size('statement_lines'))")"
log "the month has $N_LINES lines now (statement_lines: $TABLE_SIZE)"

COPY_RAW="COPY (SELECT s.contract_number, s.kostenstelle, s.haushaltsstelle, s.leitweg_id, s.customer_name,
    s.month, l.line_no, l.kind, l.booking_id, l.application_name, l.stage, l.product_name, l.size,
    l.starts_at, l.ends_at, l.seconds, l.rate, l.amount_cents
  FROM statement_lines l JOIN statements s ON s.id = l.statement_id
  WHERE s.month = '$MONTH' ORDER BY s.contract_number, l.line_no) TO STDOUT (FORMAT csv)"
# Without the ORDER BY, PostgreSQL need not sort the month (Kontor reads it
# statement by statement in line order instead): the server's bare cost.
COPY_UNORDERED="${COPY_RAW/ ORDER BY s.contract_number, l.line_no/}"
# The same text as Kontor's rfc4180 export, near enough (no formula
# neutralising, line_no instead of the position counter).
TS="'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM'"
COPY_FMT="COPY (SELECT s.contract_number AS \"Vertragsnummer\", s.kostenstelle AS \"Kostenstelle\",
    s.haushaltsstelle AS \"Haushaltsstelle\", s.leitweg_id AS \"Leitweg-ID\", s.customer_name AS \"Kunde\",
    s.month AS \"Monat\", 'endgültig' AS \"Status\", l.line_no AS \"Position\",
    CASE l.kind WHEN 'nutzung' THEN 'Nutzung' ELSE 'Grundgebühr' END AS \"Art\",
    l.application_name AS \"Verfahren\",
    CASE l.stage WHEN 'vorpruefung' THEN 'Vorprüfung' WHEN 'abnahme' THEN 'Abnahme'
      WHEN 'schulung' THEN 'Schulung' WHEN 'produktion' THEN 'Produktion' END AS \"Stufe\",
    l.product_name AS \"Produkt\", l.size AS \"Größe\", l.booking_id AS \"Buchung\",
    to_char(to_timestamp(l.starts_at), $TS) AS \"Von\", to_char(to_timestamp(l.ends_at), $TS) AS \"Bis\",
    round(l.seconds / 3600.0, 4) AS \"Stunden\", round(l.rate / 10000.0, 4) AS \"Preis je Stunde (EUR)\",
    round(l.amount_cents / 100.0, 2) AS \"Betrag (EUR)\"
  FROM statement_lines l JOIN statements s ON s.id = l.statement_id
  WHERE s.month = '$MONTH' ORDER BY s.contract_number, l.line_no) TO STDOUT (FORMAT csv, HEADER)"

# One unrecorded pass, so every measured run reads the table from memory.
log "warm-up: COPY of the month to /dev/null"
timeout "$STEP_TIMEOUT" psql "$DB_URL" -v ON_ERROR_STOP=1 -qX -c "$COPY_RAW" >/dev/null
COPY_PLAN="$(psql "$DB_URL" -qAtX -c "EXPLAIN $(sed -e 's/^COPY (//' -e 's/) TO STDOUT (FORMAT csv)$//' <<<"$COPY_RAW")" | head -n 3 | sed 's/^ *//' | paste -sd'|' | sed 's/|/; /g')"

COPY_EXPLAIN="$(psql "$DB_URL" -qAtX -c "EXPLAIN (ANALYZE, BUFFERS) $(sed -e 's/^COPY (//' -e 's/) TO STDOUT (FORMAT csv)$//' <<<"$COPY_RAW")")"
COPY_SORT="$(grep -o 'Sort Method: .*kB' <<<"$COPY_EXPLAIN" | head -n 1 || true)"
COPY_EXEC="$(grep -o 'Execution Time: [0-9.]* ms' <<<"$COPY_EXPLAIN" || true)"
log "COPY query: $COPY_PLAN; $COPY_SORT; $COPY_EXEC"

log "COPY ... TO STDOUT (FORMAT csv): raw columns"
copy_run copy_raw "$COPY_RAW"
log "COPY ... TO STDOUT (FORMAT csv): raw columns, no ORDER BY"
copy_run copy_unordered "$COPY_UNORDERED"
COPY_FMT_ROWS_HEADER=1
log "COPY ... TO STDOUT (FORMAT csv): formatted in SQL"
copy_run copy_fmt "$COPY_FMT"
ROWS[copy_fmt]=$(( ROWS[copy_fmt] - COPY_FMT_ROWS_HEADER ))

log "export of $N_LINES lines, German format"
export_run big german
log "export of $N_LINES lines, rfc4180"
export_run big_rfc rfc4180

# The per-statement query of the export, for the biggest statement.
BIG_STMT="$(sql -F' ' -c "SELECT s.id, count(*) FROM statements s JOIN statement_lines l ON l.statement_id = s.id
    WHERE s.month = '$MONTH' GROUP BY s.id ORDER BY 2 DESC LIMIT 1")"
read -r BIG_ID BIG_N <<<"$BIG_STMT"
EXPLAIN_OUT="$(sql -c "EXPLAIN (ANALYZE, BUFFERS) SELECT kind, booking_id, application_name, stage, product_name, size,
    starts_at, ends_at, seconds, rate, amount_cents FROM statement_lines WHERE statement_id = $BIG_ID ORDER BY line_no")"
EXPLAIN_TOP="$(sed -n 1p <<<"$EXPLAIN_OUT" | sed 's/^ *//')"
EXPLAIN_EXEC="$(grep -o 'Execution Time: [0-9.]* ms' <<<"$EXPLAIN_OUT" || true)"
EXPLAIN_SORT="$(grep -o 'Sort Method: .*kB' <<<"$EXPLAIN_OUT" | head -n 1 || true)"
[ -n "$EXPLAIN_SORT" ] && EXPLAIN_EXEC="$EXPLAIN_SORT; $EXPLAIN_EXEC"
log "lines of statement $BIG_ID ($BIG_N): $EXPLAIN_TOP; $EXPLAIN_EXEC"

for n in small subset big big_rfc copy_raw copy_unordered copy_fmt; do
  [ -n "${ROWS[$n]:-}" ] || continue
  case "$n" in small) want="$N_LINES0" ;; subset) want="$((N_LINES0 * SUBSET_COPIES))" ;; *) want="$N_LINES" ;; esac
  [ "${ROWS[$n]}" = "$want" ] || log "WARNING: $n has ${ROWS[$n]} rows, the database $want"
done

# --- HTTP ----------------------------------------------------------------------
HTTP_LINE=""
if [ "$HTTP" = 1 ]; then
  TOKEN="$("$KONTOR" token create --user bench-betreiber --name bench 2>/dev/null)"
  log "kontor serve on $LISTEN"
  "$KONTOR" serve >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    curl -s -o /dev/null --max-time 1 "$BASE/healthz" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server did not start"; }
    sleep 0.1
  done
  curl -sf -o /dev/null "$BASE/healthz" || die "the server does not answer /healthz"
  kb() { awk -v k="$1" '$1 == k ":" { print $2 }' "/proc/$SERVER_PID/status"; }
  HWM_START="$(kb VmHWM)"
  HTTP_WALLS=""; HTTP_BEST=""; HTTP_CPU=""; HTTP_PGCPU=""
  HTTP_HWM=()
  for i in $(seq "$RUNS"); do
    pg_cpu_start
    k0="$(ticks "$SERVER_PID")"
    out="$(curl -sS --max-time "$STEP_TIMEOUT" -o "$WORK/http.csv" -w '%{http_code} %{size_download} %{time_total}' \
      -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/statements/$MONTH/csv")"
    k1="$(ticks "$SERVER_PID")"
    pg_cpu_stop
    pgcpu="$PG_CPU"
    read -r code size total <<<"$out"
    [ "$code" = 200 ] || die "GET /api/v1/statements/$MONTH/csv answered $code"
    [ "$size" = "${BYTES[big]}" ] || log "WARNING: the HTTP export has $size bytes, the CLI export ${BYTES[big]}"
    cmp -s "$WORK/http.csv" "$WORK/big.csv" || log "WARNING: the HTTP export differs from the CLI export"
    HTTP_HWM+=("$(kb VmHWM)")
    cpu="$(awk -v t=$((k1 - k0)) -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')"
    HTTP_WALLS+="${HTTP_WALLS:+ / }$(printf '%.3f' "$total")"
    if [ -z "$HTTP_BEST" ] || awk -v a="$total" -v b="$HTTP_BEST" 'BEGIN { exit !(a < b) }'; then
      HTTP_BEST="$total"; HTTP_CPU="$cpu"; HTTP_PGCPU="$pgcpu"
    fi
    log "HTTP export: $size bytes in $total s, server CPU $cpu s, PostgreSQL CPU $pgcpu s, server VmHWM $(kb VmHWM) KiB"
    rm -f "$WORK/http.csv"
  done
  HWM_END="$(kb VmHWM)"
  RSS_END="$(kb VmRSS)"
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
fi
rm -f "$WORK"/*.csv

# --- report ------------------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
num() { sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta' <<<"$1"; }  # 1234567 -> 1,234,567
rate() { num "$(awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", n / s }')"; }
mbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f×", a / b }'; }
row() { # label name
  local n="$2" r="–"
  [ "${ROWS[$n]}" = "${ROWS[copy_raw]}" ] && r="$(ratio "${WALL[$n]}" "${WALL[copy_raw]}")"
  echo "| $1 | $(num "${ROWS[$n]}") | ${WALL[$n]} | $(rate "${ROWS[$n]}" "${WALL[$n]}") | $(mbs "${BYTES[$n]}" "${WALL[$n]}") | $(mbs "${BYTES[$n]}" 1) | $(mib "${RSS[$n]}") | ${CPU[$n]} | ${PGCPU[$n]} | $r |"
}
CPU_MODEL="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
MEM="$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
PG_VERSION="$(psql "$PG_URL/postgres" -Atc 'SHOW server_version')"
PG_SETTINGS="$(psql "$PG_URL/postgres" -Atc "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'max_parallel_workers_per_gather')")"
REV="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
DIRTY="$(git -C "$REPO_ROOT" status --porcelain 2>/dev/null | grep -q . && echo ' (with uncommitted changes)' || true)"
LOADAVG_END="$(cut -d' ' -f1-3 /proc/loadavg)"
{
  echo "# Kontor billing benchmark, $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "- Commit: $REV$DIRTY; release build; PostgreSQL $PG_VERSION on loopback ($PG_SETTINGS)"
  echo "- Machine: $(nproc) cores ($CPU_MODEL), $MEM; Kontor, psql and PostgreSQL share these cores"
  echo "- Before the runs: other processes used $OTHER_BUSY % of the CPU (3 s sample); load average $LOADAVG at the start, $LOADAVG_END at the end"
  echo "- Dataset: $CUSTOMERS customers, $APPLICATIONS applications, $BOOKINGS bookings (seeded in $SEED_WALL s); month $MONTH: $M_BOOKINGS bookings with $M_PERIODS booking periods, $CONTRACTS_VALID contracts valid"
  echo
  if [ "$OTHER_BUSY" -gt 10 ]; then
    echo "> **The machine was busy**: other processes used $OTHER_BUSY % of the CPU before"
    echo "> the runs. Wall times and rows/s are lower bounds; the CPU columns are less affected."
    echo
  fi
  echo "## Billing run"
  echo
  echo "| step | statements | line items | wall (s) | line items/s | peak RSS (MiB) | Kontor CPU (s) | PostgreSQL CPU (s) |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  echo "| \`kontor billing close --month $MONTH\` | $(num "$N_STATEMENTS") | $(num "$N_LINES0") | ${WALL[close]} | $(rate "$N_LINES0" "${WALL[close]}") | $(mib "${RSS[close]}") | ${CPU[close]} | ${PGCPU[close]} |"
  echo
  echo "Kontor printed: $CLOSE_OUT"
  echo
  echo "## CSV export of $MONTH"
  echo
  echo "| what | rows | wall (s) | rows/s | MB/s | file (MB) | peak RSS (MiB) | client CPU (s) | PostgreSQL CPU (s) | wall / COPY |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  row "\`kontor billing export\`, German, month as closed" small
  [ -n "${ROWS[subset]:-}" ] && row "\`kontor billing export\`, German" subset
  row "\`kontor billing export\`, German" big
  row "\`kontor billing export --format rfc4180\`" big_rfc
  row "\`psql -c 'COPY … TO STDOUT (FORMAT csv)'\`, raw columns (floor)" copy_raw
  row "\`psql -c 'COPY … TO STDOUT (FORMAT csv)'\`, raw columns, no ORDER BY" copy_unordered
  row "\`psql -c 'COPY … TO STDOUT (FORMAT csv, HEADER)'\`, formatted in SQL" copy_fmt
  if [ "$HTTP" = 1 ]; then
    echo "| \`GET /api/v1/statements/$MONTH/csv\` (curl, bench-betreiber), German | $(num "${ROWS[big]}") | $(printf '%.3f' "$HTTP_BEST") | $(rate "${ROWS[big]}" "$HTTP_BEST") | $(mbs "${BYTES[big]}" "$HTTP_BEST") | $(mbs "${BYTES[big]}" 1) | server $(mib "$HWM_END") | server $HTTP_CPU | $HTTP_PGCPU | $(ratio "$HTTP_BEST" "${WALL[copy_raw]}") |"
  fi
  echo
  echo "Wall: best of $RUNS runs (all runs: small ${RUNS_WALL[small]}; ${ROWS[subset]:+subset ${RUNS_WALL[subset]}; }big German ${RUNS_WALL[big]}; rfc4180 ${RUNS_WALL[big_rfc]}; COPY raw ${RUNS_WALL[copy_raw]}; COPY raw, no ORDER BY ${RUNS_WALL[copy_unordered]}; COPY formatted ${RUNS_WALL[copy_fmt]}${HTTP_WALLS:+; HTTP $HTTP_WALLS} s)."
  echo "Peak RSS: the highest maximum resident set size of all runs (/usr/bin/time -v)."
  echo "Client CPU: user + system time of kontor or psql in the best run."
  echo "PostgreSQL CPU: user + system time of the run's backends of $DB_NAME (and their parallel workers), sampled from /proc every 0.1 s; a backend's last 0.1 s before it exits is missed."
  if [ "$HTTP" = 1 ]; then
    echo "HTTP: the server's VmHWM was $(mib "$HWM_START") MiB after start, $(printf '%s ' "${HTTP_HWM[@]}" | awk '{ for (i = 1; i <= NF; i++) printf "%s%.1f", (i > 1 ? ", " : ""), $i / 1024 }') MiB after each download, VmRSS $(mib "$RSS_END") MiB at the end; server CPU is of the best run."
  fi
  echo
  echo "- Lines $N_LINES0 → $(num "$N_LINES"): copies of the month's real lines in the same statements (line_no + k × 10^7), $(num $((BIG_COPIES - 1))) copies in $DUP_WALL s including VACUUM ANALYZE and CHECKPOINT; statement_lines is $TABLE_SIZE. The statements' totals and line counts do not match the copies."
  echo "- Plan of the COPY query: $COPY_PLAN; EXPLAIN ANALYZE: ${COPY_SORT:-no sort}; $COPY_EXEC (without sending the rows)"
  echo "- The export's per-statement query (\`… FROM statement_lines WHERE statement_id = \$1 ORDER BY line_no\`) for the biggest statement ($(num "$BIG_N") lines): $EXPLAIN_TOP; $EXPLAIN_EXEC"
  echo
  echo "Seed: $SEED_SUMMARY" | tr '\n' ' '
  echo
} | tee "$RESULTS"
log "written to $RESULTS"
