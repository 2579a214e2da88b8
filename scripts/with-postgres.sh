#!/usr/bin/env bash
# Run a command with a throw-away PostgreSQL server on 127.0.0.1, and DTPA_TEST_POSTGRES_URL set.
# PostgreSQL refuses to run as root, so as root the server runs as the system user `dtpa-pg`.
# Without PostgreSQL binaries the command still runs (the PostgreSQL tests then skip), except in
# CI (CI=true), where a missing server is a failure.
set -euo pipefail

PORT="${DTPA_PG_PORT:-54329}"
DATA="${DTPA_PG_DIR:-/tmp/dtpa-pg-$PORT}"

find_bin() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

BIN="$(find_bin || true)"
if [ -z "$BIN" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "Error: PostgreSQL (initdb, pg_ctl) is not installed; CI needs it for the store tests." >&2
    exit 1
  fi
  echo "Note: PostgreSQL not found; the PostgreSQL store tests will be skipped." >&2
  exec "$@"
fi

if [ "$(id -u)" = "0" ]; then
  id dtpa-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin dtpa-pg
  as_pg() { runuser -u dtpa-pg -- "$@"; }
else
  as_pg() { "$@"; }
fi

stop() { as_pg "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true; rm -rf "$DATA"; }
stop
mkdir -p "$DATA"
[ "$(id -u)" = "0" ] && chown dtpa-pg "$DATA"
as_pg "$BIN/initdb" -D "$DATA" -U dtpa -A trust --no-sync >/dev/null
as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
  -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60" start >/dev/null
trap stop EXIT
as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U dtpa dtpa_test
export DTPA_TEST_POSTGRES_URL="postgresql+psycopg://dtpa@127.0.0.1:$PORT/dtpa_test"
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') running for the tests on port $PORT" >&2
"$@"
