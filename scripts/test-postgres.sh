#!/usr/bin/env bash
# The whole vitest suite on a real PostgreSQL server: starts the throwaway
# cluster (scripts/postgres-start.sh), runs `npx vitest run` with
# TEST_DATABASE_URL set, stops the cluster on exit, and exits with vitest's code.
# Extra arguments go to vitest (e.g. `bash scripts/test-postgres.sh test/concurrency`).
# PGTEST_KEEP=1 leaves the cluster running afterwards.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

stop_cluster() {
  local code=$?
  if [[ "${PGTEST_KEEP:-0}" != "1" ]]; then
    bash scripts/postgres-stop.sh || true
  fi
  exit "$code"
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

URL="$(bash scripts/postgres-start.sh | tail -n 1)"
if [[ "$URL" != postgres://* ]]; then
  echo "[test-postgres] could not start PostgreSQL" >&2
  exit 1
fi
echo "[test-postgres] TEST_DATABASE_URL=$URL" >&2

TEST_DATABASE_URL="$URL" npx vitest run "$@"
