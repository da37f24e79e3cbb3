#!/usr/bin/env bash
# Stops the Radicale started by radicale-start.sh (by its pid file). RADICALE_DISCARD=1 also deletes its folder.
set -euo pipefail

RADICALE_DIR="${RADICALE_DIR:-/tmp/booking-radicale}"
PIDFILE="$RADICALE_DIR/radicale.pid"

if [[ -s "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  PID="$(cat "$PIDFILE")"
  echo "[radicale-stop] stopping pid $PID" >&2
  kill "$PID"
  for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$PID" 2>/dev/null; then kill -9 "$PID" || true; fi
else
  echo "[radicale-stop] not running" >&2
fi
rm -f "$PIDFILE"
if [[ "${RADICALE_DISCARD:-0}" == "1" ]]; then rm -rf "$RADICALE_DIR"; fi
