#!/usr/bin/env bash
# Every test of the project, in the order a failure is cheapest to find:
# formatting, lints, Rust tests (unit, storage conformance on SQLite and PostgreSQL, end-to-end),
# then the official Clerk SDKs (tests/sdk-compat) against the release binary on SQLite and on PostgreSQL,
# then the official clerk-js and UI bundles in Chromium (tests/browser) against the release binary on SQLite.
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth), Node.js 20 with npm, and Chromium
# (/usr/bin/chromium, Debian package `chromium`; or CHROMIUM_PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PG_URL_BASE="${CONCIERGE_TEST_POSTGRES_BASE:-postgres://postgres@127.0.0.1:5432}"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; trying to start it" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
  pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is required (see README)" >&2; exit 1; }
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo doc (the SDK's public API, warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc -p concierge-sdk --no-deps --all-features
echo "== cargo test (SQLite and PostgreSQL)"
cargo test --workspace
echo "== build the release binaries (server and the SDK's example app)"
cargo build --release -p concierge-server -p axum-dashboard

echo "== official SDKs against the binary"
cd tests/sdk-compat
npm ci --no-audit --no-fund --loglevel=error
export CONCIERGE_BIN=../../target/release/concierge
echo "-- on SQLite"
node --test --test-concurrency=1 tests/
SDK_DB="concierge_sdk_$$"
psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $SDK_DB" >/dev/null
trap 'psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $SDK_DB WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
echo "-- on PostgreSQL"
CONCIERGE_SDK_DATABASE_URL="$PG_URL_BASE/$SDK_DB" node --test --test-concurrency=1 tests/

echo "== official clerk-js and UI in Chromium"
cd "$ROOT/tests/browser"
npm ci --no-audit --no-fund --loglevel=error
CONCIERGE_BIN="$ROOT/target/release/concierge" node --test --test-concurrency=1 tests/
echo "== all tests passed"
