#!/usr/bin/env bash
# How CPU per request grows with the data (see docs/benchmarks.md): runs
# bench/http.sh on the default dataset (20,000 bookings) and on ten times it
# (200,000), the same targets, and prints per target the Kontor + PostgreSQL
# CPU per request of both and their ratio (the target is at most 1.2×).
# Settings: those of bench/http.sh (BENCH_TARGETS, BENCH_DURATION, …);
# BENCH_SCALES (default "1 10"). Fails when either run fails.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
read -r -a SCALES <<<"${BENCH_SCALES:-1 10}"
[ "${#SCALES[@]}" -eq 2 ] || { echo "compare-scales: BENCH_SCALES needs two scales" >&2; exit 1; }
STAMP="$(date +%F-%H%M)"
declare -A FILE
for scale in "${SCALES[@]}"; do
  FILE[$scale]="$REPO_ROOT/bench/results-$STAMP-scale$scale.md"
  BENCH_SCALE="$scale" BENCH_RESULTS="${FILE[$scale]}" "$REPO_ROOT/bench/http.sh"
  # One build is enough.
  export BENCH_SKIP_BUILD=1
done

small="${SCALES[0]}"; large="${SCALES[1]}"
{
  echo "# CPU per request, dataset ×$small and ×$large ($(date '+%Y-%m-%d %H:%M %Z'))"
  echo
  echo "| target | ×$small Kontor + PostgreSQL µs | ×$large Kontor + PostgreSQL µs | ratio | statements/req ×$small / ×$large |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  join -t $'\t' <(sort "${FILE[$small]%.md}.tsv") <(sort "${FILE[$large]%.md}.tsv") |
    awk -F'\t' '{ a = $4 + $5; b = $10 + $11;
      printf "| %s | %d | %d | %.2f× | %s / %s |\n", $1, a, b, (a > 0 ? b / a : 0), $7, $13 }'
} | tee "$REPO_ROOT/bench/results-$STAMP-scales.md"
