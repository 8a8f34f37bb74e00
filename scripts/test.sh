#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# Installs or starts what the tests need when it is missing (PostgreSQL,
# Chromium, the Node packages of the browser tests), then checks formatting
# and lints, runs the Rust unit and integration tests against SQLite and
# PostgreSQL, Schemathesis against the REST API of a running Kontor, and the
# browser tests (Playwright + axe-core) against a real headless Chromium.
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

step "cargo test (unit tests; integration tests on SQLite and PostgreSQL)"
export KONTOR_TEST_POSTGRES_URL="${KONTOR_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo test --all-targets "${FEATURES[@]}"

if [[ -n "${KUBECONFIG:-}" ]]; then
  step "end-to-end tests against the cluster in KUBECONFIG"
  cargo test "${FEATURES[@]}" --test integration real_cluster -- --ignored
fi

step "schemathesis against /api/v1/openapi.json of a running Kontor"
scripts/schemathesis.sh

step "browser tests (Playwright + axe-core, headless Chromium)"
cargo build "${FEATURES[@]}" --bin kontor
export KONTOR_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/kontor"
(cd tests/browser && node --test)
