#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# Installs or starts what the tests need when it is missing (PostgreSQL,
# Chromium, the Node packages of the browser tests), then checks formatting
# and lints, runs the Rust unit and integration tests against SQLite and
# PostgreSQL and a real Kubernetes control plane (built from Go modules,
# cached), Schemathesis against the REST API of a running Kontor, and the
# browser tests (Playwright + axe-core) against a real headless Chromium.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
scripts/ensure-deps.sh

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

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

step "cargo test (unit tests; integration tests on SQLite and PostgreSQL, against the real control plane)"
export KONTOR_TEST_POSTGRES_URL="${KONTOR_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo test --all-targets

step "schemathesis against /api/v1/openapi.json of a running Kontor"
scripts/schemathesis.sh

step "browser tests (Playwright + axe-core, headless Chromium)"
cargo build --bin kontor
export KONTOR_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/kontor"
(cd tests/browser && node --test)
