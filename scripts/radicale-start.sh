#!/usr/bin/env bash
# Starts a throwaway Radicale CalDAV server for tests on 127.0.0.1 (idempotent).
#   RADICALE_DIR      (default /tmp/booking-radicale)  config, htpasswd, storage, log, pid
#   RADICALE_PORT     (default 5232)                   the port
#   RADICALE_USER     (default booking)                the test user (htpasswd, plain text)
#   RADICALE_PASSWORD (default booking-test-password)
#   RADICALE_DISCOVERY_USER (default booking-discovery) a second user, same password
# Installs Debian's radicale with apt-get when it is missing. Prints the URL
# (RADICALE_URL for the CalDAV tests) on its last line of stdout.
set -euo pipefail

RADICALE_DIR="${RADICALE_DIR:-/tmp/booking-radicale}"
RADICALE_PORT="${RADICALE_PORT:-5232}"
RADICALE_USER="${RADICALE_USER:-booking}"
RADICALE_PASSWORD="${RADICALE_PASSWORD:-booking-test-password}"
RADICALE_DISCOVERY_USER="${RADICALE_DISCOVERY_USER:-booking-discovery}"
URL="http://127.0.0.1:$RADICALE_PORT/"

log() { echo "[radicale-start] $*" >&2; }

answers() { # any HTTP answer (401 included) means it is up
  local code
  code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$URL" 2>/dev/null || true)"
  [[ -n "$code" && "$code" != "000" ]]
}

# Radicale reads TZID times through pytz, which Debian's packages do not pull in with --no-install-recommends:
# without it every PUT of an event with a TZID is a 400 ("No module named 'pytz'" in its log).
if command -v radicale >/dev/null 2>&1 && ! python3 -c 'import pytz' >/dev/null 2>&1; then
  log "python3-tz is missing; installing with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends python3-tz >&2
fi
if ! command -v radicale >/dev/null 2>&1; then
  log "radicale is not installed; installing with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends radicale python3-tz >&2
fi

PIDFILE="$RADICALE_DIR/radicale.pid"
if [[ -s "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && answers; then
  log "already running (pid $(cat "$PIDFILE"))"
  echo "$URL"
  exit 0
fi

# A fresh start is an empty server: the tests make their own calendars.
rm -rf "$RADICALE_DIR/collections"
mkdir -p "$RADICALE_DIR/collections"
chmod 700 "$RADICALE_DIR"
printf '%s:%s\n' "$RADICALE_USER" "$RADICALE_PASSWORD" "$RADICALE_DISCOVERY_USER" "$RADICALE_PASSWORD" >"$RADICALE_DIR/users"
cat >"$RADICALE_DIR/config" <<CONF
[server]
hosts = 127.0.0.1:$RADICALE_PORT

[auth]
type = htpasswd
htpasswd_filename = $RADICALE_DIR/users
htpasswd_encryption = plain
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = $RADICALE_DIR/collections

[web]
type = none

[logging]
level = warning
CONF

log "starting radicale $(radicale --version 2>/dev/null || true) on 127.0.0.1:$RADICALE_PORT"
nohup radicale --config "$RADICALE_DIR/config" >"$RADICALE_DIR/radicale.log" 2>&1 </dev/null &
echo $! >"$PIDFILE"

for _ in $(seq 1 100); do # up to ~20 s
  if answers; then
    log "up (pid $(cat "$PIDFILE"))"
    echo "$URL"
    exit 0
  fi
  if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then break; fi
  sleep 0.2
done
log "radicale did not start; its log:"
cat "$RADICALE_DIR/radicale.log" >&2 || true
exit 1
