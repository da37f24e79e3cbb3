#!/usr/bin/env bash
# Runs the README's walk-through exactly as written (against a server started
# the way the README says), and checks that each step did what the README
# promises. Keeps the README honest: if it drifts from the API, CI fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PORT=${WALKTHROUGH_PORT:-3917}
WORK=$(mktemp -d)
cleanup() { [[ -n "${SERVER_PID:-}" ]] && kill "$SERVER_PID" 2>/dev/null; wait "${SERVER_PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

ADMIN_API_KEY=dev-admin-key-change-me DATA_DIR=memory PORT=$PORT LOG_LEVEL=warn \
  node --max-semi-space-size=2 --optimize-for-size scripts/start.mjs >"$WORK/server.log" 2>&1 &  # what `npm start` runs, without npm in front (so that SERVER_PID is the server)
SERVER_PID=$!
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { cat "$WORK/server.log"; echo "server did not start"; exit 1; }

# Each walk-through is the first sh block after its marker line; both run against this one server.
# One awk reads the file itself: a second awk that exits early would leave the
# first writing into a closed pipe (SIGPIPE, exit 141 under pipefail).
run_block() { # <marker regex> <name>
  awk -v marker="$1" '$0 ~ marker {f=1} f && !c && /^```sh/{c=1;next} c && /^```/{exit} c' README.md \
    | sed "s#http://127.0.0.1:3000#http://127.0.0.1:$PORT#" >"$WORK/$2.sh"
  [[ -s "$WORK/$2.sh" ]] || { echo "walk-through $2: no sh block found after /$1/"; exit 1; }
  (cd "$WORK" && bash -eu "$2.sh") >"$WORK/$2.txt" 2>&1 || { cat "$WORK/$2.txt"; echo "walk-through $2 failed"; exit 1; }
}
check() { # <file> <pattern> <what>
  grep -q -- "$2" "$WORK/$1.txt" || { cat "$WORK/$1.txt"; echo "walk-through $1: missing $3"; exit 1; }
}

run_block '^In another shell' v1
check v1 '"status":"held"' 'a held booking'
check v1 '"code":"slot_taken"' 'the 409 for the same time'
check v1 '"status":"confirmed"' 'the confirmed booking'
check v1 'STATUS:CONFIRMED' 'the booking in the ICS feed'
check v1 '"status":"cancelled"' 'the cancelled booking'
check v1 '"expiresAt"' 'a login key'

run_block '^cancel\. With the server of the walk-through above still running' clinic
check clinic '"slug":"first-consultation"' 'the event type'
check clinic '"answers":{"reason":"Back pain"}' 'the stored answer'
check clinic '"status":"confirmed"' 'the confirmed visit'
check clinic 'T10:15:00[^ ]* [0-9-]*T10:30:00' 'the buffer after the first visit (09:00 + 60 min + 10 min, on the grid)'
check clinic '"previousStart"' 'the rescheduled visit'
check clinic '"status":"pending"' 'the follow-up awaiting approval'
check clinic '"recurrence":"yearly"' 'the closure'
check clinic '"cancelledBy":"client"' 'the cancelled visit'
run_block '^workshop for eight is an event type with' makerspace
check makerspace '"kind":"resource"' 'the resources in the directory'
check makerspace '"code":"slot_taken"' 'the fourth print job refused'
check makerspace '"seatsLeft":7' 'a seat taken of the workshop'
[[ $(grep -c '"status":"held"' "$WORK/makerspace.txt") -ge 4 ]] || { cat "$WORK/makerspace.txt"; echo "walk-through makerspace: expected three print holds and a seat"; exit 1; }

echo "README walk-through: every step answered as documented"
