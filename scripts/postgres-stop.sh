#!/usr/bin/env bash
# Stops the test cluster started by postgres-start.sh. PGTEST_DISCARD=1 also deletes it.
set -euo pipefail

PGTEST_DIR="${PGTEST_DIR:-/tmp/booking-pg}"
DATA="$PGTEST_DIR/data"

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r | head -n 1 || true)"
if [[ -z "$PGBIN" || ! -s "$DATA/PG_VERSION" ]]; then
  echo "[postgres-stop] no cluster in $DATA" >&2
  exit 0
fi
if [[ "$(id -u)" == "0" ]]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi

if as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  echo "[postgres-stop] stopping" >&2
  as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >&2 \
    || as_pg "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >&2
else
  echo "[postgres-stop] not running" >&2
fi
if [[ "${PGTEST_DISCARD:-0}" == "1" ]]; then rm -rf "$PGTEST_DIR"; fi
