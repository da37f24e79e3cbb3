#!/usr/bin/env bash
# Stops the test Redis started by redis-start.sh. REDISTEST_DISCARD=1 also deletes its folder.
set -euo pipefail

REDISTEST_DIR="${REDISTEST_DIR:-/tmp/booking-redis}"
REDISTEST_PORT="${REDISTEST_PORT:-63790}"
PIDFILE="$REDISTEST_DIR/redis.pid"

if redis-cli -h 127.0.0.1 -p "$REDISTEST_PORT" ping >/dev/null 2>&1; then
  echo "[redis-stop] stopping 127.0.0.1:$REDISTEST_PORT" >&2
  redis-cli -h 127.0.0.1 -p "$REDISTEST_PORT" shutdown nosave >/dev/null 2>&1 || true
fi
# Wait for the process to go (bounded: 10 s); kill it if it does not.
if [[ -s "$PIDFILE" ]]; then
  pid="$(cat "$PIDFILE")"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
fi
if [[ "${REDISTEST_DISCARD:-0}" == "1" ]]; then rm -rf "$REDISTEST_DIR"; fi
