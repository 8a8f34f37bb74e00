#!/usr/bin/env bash
# Export of a large Revision (docs/benchmarks.md, "Revision"): N audit
# entries (default 1,000,000) in a fresh PostgreSQL database, chained by
# `kontor migrate` the way entries from before the chain are, then
# `kontor audit export` in each format, with wall time, rows per second and
# peak memory (GNU time). Then `kontor audit verify` over all of them.
#
#   BENCH_PG_URL   postgres://postgres@127.0.0.1:5432  (server, no database)
#   BENCH_ENTRIES  1000000
#   BENCH_KONTOR   the binary (default target/release/kontor, built when missing)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
ENTRIES="${BENCH_ENTRIES:-1000000}"
KONTOR="${BENCH_KONTOR:-$REPO_ROOT/target/release/kontor}"
DB=kontor_bench_audit_export

log() { printf 'bench: %s\n' "$*" >&2; }
if [ ! -x "$KONTOR" ]; then
  log "cargo build --release"
  (cd "$REPO_ROOT" && cargo build --release --quiet)
fi
WORK="$(mktemp -d -t kontor-audit-export.XXXXXX)"
trap 'rm -rf "$WORK"; psql "$PG_URL/postgres" -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
cd "$WORK"
export KONTOR_DATABASE_URL="$PG_URL/$DB" KONTOR_DATA_DIR="$WORK/data" KONTOR_SEED_DEMO=false

psql "$PG_URL/postgres" -v ON_ERROR_STOP=1 -q \
  -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
"$KONTOR" migrate >/dev/null 2>&1
log "inserting $ENTRIES entries (bookings of 200 customers, before and after in JSON)"
psql "$PG_URL/$DB" -v ON_ERROR_STOP=1 -q <<SQL
INSERT INTO audit_log (at, actor_user_id, actor, via, customer_id, action, object_type,
                       object_id, before_json, after_json)
SELECT 1767225600 + g * 20, NULL, 'Sabine Pfleger (sp-' || (g % 200) || ')', 'token',
       NULL, CASE g % 3 WHEN 0 THEN 'booking.created' WHEN 1 THEN 'booking.resized'
                          ELSE 'booking.cancelled' END,
       'booking', g,
       CASE WHEN g % 3 = 1 THEN '{"size":"S","state":"aktiv"}' END,
       '{"application_id":' || (g % 2000) || ',"stage":"abnahme","product":"container-namespace",'
         || '"size":"M","state":"beantragt","note":"Lasttest; \"Anführung\", =SUMME(A1)"}'
FROM generate_series(1, $ENTRIES) AS g;
-- Entries written "before the chain": the next migrate chains them.
UPDATE audit_chain SET seal_until = (SELECT MAX(id) FROM audit_log);
SQL
start=$(date +%s.%N)
"$KONTOR" migrate >/dev/null 2>&1
chained=$(echo "$(date +%s.%N) - $start" | bc)
log "chained in ${chained}s"

printf '| what | entries | s | entries/s | peak RSS (MiB) | output (MiB) |\n| --- | ---: | ---: | ---: | ---: | ---: |\n'
printf '| chaining them (kontor migrate) | %s | %.1f | %.0f | – | – |\n' "$ENTRIES" "$chained" "$(echo "$ENTRIES / $chained" | bc -l)"
for format in csv rfc4180 jsonl; do
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$KONTOR" audit export --format "$format" --out "$WORK/out" 2>/dev/null
  read -r secs kib <"$WORK/time"
  lines=$(wc -l <"$WORK/out")
  [ "$format" = jsonl ] || lines=$((lines - 1)) # the header
  size=$(du -m "$WORK/out" | cut -f1)
  printf '| kontor audit export --format %s | %s | %.1f | %.0f | %.1f | %s |\n' \
    "$format" "$lines" "$secs" "$(echo "$ENTRIES / $secs" | bc -l)" \
    "$(echo "$kib / 1024" | bc -l)" "$size"
done
/usr/bin/time -f '%e %M' -o "$WORK/time" "$KONTOR" audit verify >/dev/null 2>&1
read -r secs kib <"$WORK/time"
printf '| kontor audit verify | %s | %.1f | %.0f | %.1f | – |\n' "$ENTRIES" "$secs" \
  "$(echo "$ENTRIES / $secs" | bc -l)" "$(echo "$kib / 1024" | bc -l)"
