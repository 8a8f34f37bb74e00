#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# Installs or starts what the tests need when it is missing (PostgreSQL,
# Chromium, the Node packages of the browser tests), then checks formatting
# and lints, runs the Rust unit and integration tests against SQLite and
# PostgreSQL and a real Kubernetes control plane (built from Go modules,
# cached), Schemathesis against the REST API of a running Kontor, a client
# generated from its OpenAPI document through one journey, and the
# browser tests (Playwright + axe-core) against a real headless Chromium. The
# login tests run against a real Keycloak (scripts/keycloak.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
scripts/ensure-deps.sh

step "cargo fmt --check"
cargo fmt --check

# The benchmark dataset generator is a feature (never in a production
# build); the suite tests it, and every cargo step below uses the same
# features so that nothing is compiled twice.
FEATURES=(--features bench-seed)

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets "${FEATURES[@]}" -- -D warnings

# Each PostgreSQL test creates its own database; remove those of earlier runs.
step "dropping leftover test databases"
psql -X -q -h 127.0.0.1 -U postgres -d postgres -Atc \
  "SELECT 'DROP DATABASE IF EXISTS \"' || datname || '\";' FROM pg_database WHERE datname LIKE 'kontor\_test\_%'" \
  | psql -X -q -h 127.0.0.1 -U postgres -d postgres >/dev/null

# The real Kubernetes control plane of the integration tests (etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kwok), built from
# Go modules once into ~/.cache/kontor/ (several minutes the first time, a
# moment afterwards); the tests start it themselves.
step "Kubernetes control plane for the tests (scripts/kube-binaries.sh)"
kube_bin="$(scripts/kube-binaries.sh)"
echo "binaries in $kube_bin:"
sed 's/^/  /' "$kube_bin/VERSIONS"

# ---- Keycloak (tests/keycloak/README.md) ----------------------------------
# Fetched from Maven Central and prepared in ~/.cache/kontor when missing,
# then one Keycloak for the Rust and the browser tests of this run; it stops
# when this script ends, however it ends (--exit-with-pid).
step "Keycloak: fetch and prepare when missing, start one for this run"
scripts/keycloak.sh ensure
keycloak_ready="$(mktemp)"
scripts/keycloak.sh serve --exit-with-pid $$ >"$keycloak_ready" &
keycloak_pid=$!
until [ -s "$keycloak_ready" ]; do
  kill -0 "$keycloak_pid" 2>/dev/null || { echo "Keycloak did not start (messages above)" >&2; exit 1; }
  sleep 0.5
done
KONTOR_TEST_KEYCLOAK_URL="$(sed -E 's/.*"url":"([^"]+)".*/\1/' "$keycloak_ready")"
export KONTOR_TEST_KEYCLOAK_URL
rm -f "$keycloak_ready"
# ---------------------------------------------------------------------------

step "cargo test (unit tests; integration tests on SQLite and PostgreSQL, against the real control plane)"
export KONTOR_TEST_POSTGRES_URL="${KONTOR_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo test --all-targets "${FEATURES[@]}"

step "schemathesis against /api/v1/openapi.json of a running Kontor"
scripts/schemathesis.sh

# A client generated from the served document by a standard generator
# (openapi-python-client), and one journey through it as Betreiber,
# Systempfleger:in and Finanzen: the document is one that generators digest.
step "generated client's journey (scripts/client-journey.sh)"
scripts/client-journey.sh

step "browser tests (Playwright + axe-core, headless Chromium)"
cargo build "${FEATURES[@]}" --bin kontor
export KONTOR_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/kontor"
(cd tests/browser && node --test)
