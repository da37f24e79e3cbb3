#!/usr/bin/env bash
# The Redis suites (test/redis: shared slot cache, shared rate limits, the
# stream across two processes, Redis dying and coming back) plus the
# Redis-free unit tests of the same code: starts a throwaway Redis
# (scripts/redis-start.sh) and PostgreSQL (scripts/postgres-start.sh; the
# two-process stream test needs a server database), runs vitest with
# TEST_REDIS_URL and TEST_DATABASE_URL set, stops only what it started, and
# exits with vitest's code. Extra arguments go to vitest.
# REDISTEST_KEEP=1 leaves both running afterwards.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

REDIS_PORT="${REDISTEST_PORT:-63790}"
PG_PORT="${PGTEST_PORT:-54329}"
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Another suite may be using a server that was already running: leave those alone.
started_redis=0
started_pg=0
listening "$REDIS_PORT" || started_redis=1
listening "$PG_PORT" || started_pg=1

stop_started() {
  local code=$?
  if [[ "${REDISTEST_KEEP:-0}" != "1" ]]; then
    if [[ "$started_redis" == "1" ]]; then bash scripts/redis-stop.sh || true; fi
    if [[ "$started_pg" == "1" ]]; then bash scripts/postgres-stop.sh || true; fi
  fi
  exit "$code"
}
trap stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

REDIS_URL="$(bash scripts/redis-start.sh | tail -n 1)"
if [[ "$REDIS_URL" != redis://* ]]; then
  echo "[test-redis] could not start Redis" >&2
  exit 1
fi
PG_URL="$(bash scripts/postgres-start.sh | tail -n 1)"
if [[ "$PG_URL" != postgres://* ]]; then
  echo "[test-redis] could not start PostgreSQL" >&2
  exit 1
fi
echo "[test-redis] TEST_REDIS_URL=$REDIS_URL TEST_DATABASE_URL=$PG_URL" >&2

TEST_REDIS_URL="$REDIS_URL" TEST_DATABASE_URL="$PG_URL" npx vitest run \
  test/redis test/unit/slot-cache.test.ts test/unit/redis-fallbacks.test.ts test/unit/redis-change-feed.test.ts \
  test/unit/change-feed.test.ts test/unit/readiness.test.ts \
  test/config-redis.test.ts test/http/slot-cache.test.ts "$@"
