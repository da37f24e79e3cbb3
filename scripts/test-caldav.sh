#!/usr/bin/env bash
# The CalDAV suites against a real Radicale: starts a throwaway one
# (scripts/radicale-start.sh), runs the CalDAV tests with RADICALE_URL set,
# stops it on exit, and exits with vitest's code. Extra arguments go to vitest.
# RADICALE_KEEP=1 leaves Radicale running afterwards.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

stop_radicale() {
  local code=$?
  if [[ "${RADICALE_KEEP:-0}" != "1" ]]; then
    bash scripts/radicale-stop.sh || true
  fi
  exit "$code"
}
trap stop_radicale EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

URL="$(bash scripts/radicale-start.sh | tail -n 1)"
if [[ "$URL" != http://* ]]; then
  echo "[test-caldav] could not start Radicale" >&2
  exit 1
fi
echo "[test-caldav] RADICALE_URL=$URL" >&2

RADICALE_URL="$URL" npx vitest run test/integrations/calendars/caldav.test.ts test/http/calendars-caldav.test.ts "$@"
