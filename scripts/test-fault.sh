#!/usr/bin/env bash
# Fault tests (test/fault): three server processes on one PostgreSQL and one
# Redis, then kill -9 a process, stop PostgreSQL, stop Redis, and check the
# invariants in SQL. Starts its OWN throwaway PostgreSQL and Redis (not the
# default ones other suites use, since the tests stop and start them), runs
# `npx vitest run test/fault`, stops what it started, exits with vitest's code.
#   FAULT_PGTEST_DIR    (default /tmp/booking-pg-fault)     FAULT_PGTEST_PORT    (default 54339)
#   FAULT_REDISTEST_DIR (default /tmp/booking-redis-fault)  FAULT_REDISTEST_PORT (default 63791)
#   FAULT_KEEP=1 leaves both running afterwards. Extra arguments go to vitest.
#   Scenario 5 runs deploy/nginx.conf in front of the processes; nginx is installed
#   with apt-get when missing (FAULT_NGINX=0: do not install; the scenario is skipped).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The suite prepares its own template on its own cluster; never touch the shared one.
unset TEST_DATABASE_URL

export FAULT_PGTEST_DIR="${FAULT_PGTEST_DIR:-/tmp/booking-pg-fault}"
export FAULT_PGTEST_PORT="${FAULT_PGTEST_PORT:-54339}"
export FAULT_REDISTEST_DIR="${FAULT_REDISTEST_DIR:-/tmp/booking-redis-fault}"
export FAULT_REDISTEST_PORT="${FAULT_REDISTEST_PORT:-63791}"

pg_env=(env PGTEST_DIR="$FAULT_PGTEST_DIR" PGTEST_PORT="$FAULT_PGTEST_PORT")
redis_env=(env REDISTEST_DIR="$FAULT_REDISTEST_DIR" REDISTEST_PORT="$FAULT_REDISTEST_PORT")

stop_services() {
  local code=$?
  if [[ "${FAULT_KEEP:-0}" != "1" ]]; then
    "${redis_env[@]}" bash scripts/redis-stop.sh || true
    "${pg_env[@]}" bash scripts/postgres-stop.sh || true
  fi
  exit "$code"
}
trap stop_services EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! command -v nginx >/dev/null 2>&1 && [[ "${FAULT_NGINX:-1}" != "0" ]] && command -v apt-get >/dev/null 2>&1; then
  echo "[test-fault] nginx is not installed; installing nginx-light with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y --no-install-recommends nginx-light || { apt-get update && apt-get install -y --no-install-recommends nginx-light; }; } >&2 \
    || echo "[test-fault] could not install nginx; scenario 5 will be skipped" >&2
fi

started=$(date +%s)
PG_URL="$("${pg_env[@]}" bash scripts/postgres-start.sh | tail -n 1)"
if [[ "$PG_URL" != postgres://* ]]; then
  echo "[test-fault] could not start PostgreSQL" >&2
  exit 1
fi
REDIS_URL_FOUND="$("${redis_env[@]}" bash scripts/redis-start.sh | tail -n 1)"
if [[ "$REDIS_URL_FOUND" != redis://* ]]; then
  echo "[test-fault] could not start Redis" >&2
  exit 1
fi
echo "[test-fault] PostgreSQL $PG_URL, Redis $REDIS_URL_FOUND (services up in $(( $(date +%s) - started )) s)" >&2

# One file at a time: the cluster scenarios stop PostgreSQL, which another file must not see.
FAULT_DATABASE_URL="$PG_URL" FAULT_REDIS_URL="$REDIS_URL_FOUND" npx vitest run test/fault --no-file-parallelism "$@"
