#!/usr/bin/env bash
# Starts a throwaway Redis for tests on 127.0.0.1 (idempotent).
#   REDISTEST_DIR  (default /tmp/booking-redis)  config, data, log, pid
#   REDISTEST_PORT (default 63790)               the port
# Installs Debian's redis-server with apt-get when it is missing. Prints the URL
# (REDIS_URL / TEST_REDIS_URL) on its last line of stdout.
set -euo pipefail

REDISTEST_DIR="${REDISTEST_DIR:-/tmp/booking-redis}"
REDISTEST_PORT="${REDISTEST_PORT:-63790}"
URL="redis://127.0.0.1:$REDISTEST_PORT"

log() { echo "[redis-start] $*" >&2; }

if ! command -v redis-server >/dev/null 2>&1; then
  log "redis-server is not installed; installing with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends redis-server >&2
fi

mkdir -p "$REDISTEST_DIR"
if redis-cli -h 127.0.0.1 -p "$REDISTEST_PORT" ping >/dev/null 2>&1; then
  log "already running on 127.0.0.1:$REDISTEST_PORT"
  echo "$URL"
  exit 0
fi

# Loopback only, no persistence (a test cache), daemonised with a pid file.
cat >"$REDISTEST_DIR/redis.conf" <<CONF
bind 127.0.0.1
port $REDISTEST_PORT
protected-mode yes
daemonize yes
pidfile $REDISTEST_DIR/redis.pid
logfile $REDISTEST_DIR/redis.log
dir $REDISTEST_DIR
save ""
appendonly no
maxmemory 256mb
maxmemory-policy allkeys-lru
CONF
log "starting on 127.0.0.1:$REDISTEST_PORT"
redis-server "$REDISTEST_DIR/redis.conf"

for _ in $(seq 1 100); do # bounded: 20 s
  if redis-cli -h 127.0.0.1 -p "$REDISTEST_PORT" ping >/dev/null 2>&1; then
    echo "$URL"
    exit 0
  fi
  sleep 0.2
done
log "Redis did not answer on 127.0.0.1:$REDISTEST_PORT; the log says:"
tail -n 40 "$REDISTEST_DIR/redis.log" >&2 || true
exit 1
