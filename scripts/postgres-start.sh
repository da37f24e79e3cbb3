#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for tests on 127.0.0.1 (idempotent).
#   PGTEST_DIR  (default /tmp/booking-pg)  the cluster's folder
#   PGTEST_PORT (default 54329)            the port
# Prints the URL to use as TEST_DATABASE_URL on its last line of stdout.
set -euo pipefail

PGTEST_DIR="${PGTEST_DIR:-/tmp/booking-pg}"
PGTEST_PORT="${PGTEST_PORT:-54329}"
DATA="$PGTEST_DIR/data"
LOG="$PGTEST_DIR/postgres.log"

log() { echo "[postgres-start] $*" >&2; }

find_bin() {
  local d
  # The newest installed major version wins.
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
  done
  return 1
}

PGBIN="$(find_bin || true)"
if [[ -z "$PGBIN" ]]; then
  log "no PostgreSQL server binaries under /usr/lib/postgresql; installing with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends postgresql >&2
  PGBIN="$(find_bin)" || { log "PostgreSQL binaries still not found after install"; exit 1; }
fi
log "using $PGBIN"

# initdb and the server refuse to run as root: run them as the postgres user.
if [[ "$(id -u)" == "0" ]]; then
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

mkdir -p "$PGTEST_DIR"
if [[ "$(id -u)" == "0" ]]; then chown postgres: "$PGTEST_DIR"; fi
chmod 700 "$PGTEST_DIR"

if [[ ! -s "$DATA/PG_VERSION" ]]; then
  rm -rf "$DATA"
  log "initdb in $DATA"
  as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$PGTEST_DIR/initdb.log" 2>&1 \
    || as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$PGTEST_DIR/initdb.log" 2>&1 \
    || { cat "$PGTEST_DIR/initdb.log" >&2; exit 1; }
  # Test settings: speed over durability, loopback only, plenty of connections.
  cat >>"$DATA/postgresql.conf" <<CONF

# --- booking-engine test cluster ---
listen_addresses = '127.0.0.1'
port = $PGTEST_PORT
unix_socket_directories = '$PGTEST_DIR'
max_connections = 200
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
log_min_error_statement = panic
CONF
  cat >"$DATA/pg_hba.conf" <<HBA
local all all             trust
host  all all 127.0.0.1/32 trust
HBA
fi

if as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  log "already running"
else
  # A stale pid file from a killed server would stop pg_ctl; it checks it itself.
  log "starting on 127.0.0.1:$PGTEST_PORT"
  as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $PGTEST_PORT" -w -t 60 start >&2 \
    || { log "start failed; the log says:"; tail -n 40 "$LOG" >&2 || true; exit 1; }
fi

# Wait until it accepts connections over TCP (bounded: 60 s).
for _ in $(seq 1 120); do
  if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGTEST_PORT" -U postgres; then
    echo "postgres://postgres@127.0.0.1:$PGTEST_PORT/postgres"
    exit 0
  fi
  sleep 0.5
done
log "PostgreSQL did not become ready on 127.0.0.1:$PGTEST_PORT; the log says:"
tail -n 40 "$LOG" >&2 || true
exit 1
