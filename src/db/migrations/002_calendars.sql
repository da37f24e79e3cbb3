-- Connected calendars: outside calendars whose busy time removes slots.
CREATE TABLE calendar_connections (
  id              text PRIMARY KEY,
  provider_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  type            text NOT NULL CHECK (type IN ('ics', 'caldav', 'google')),
  -- The source's settings with their secrets (a feed URL with its token, a
  -- password, OAuth tokens) as JSON sealed with AES-256-GCM under ENCRYPTION_KEY
  -- (src/platform/crypto/encryption.ts). Never returned by the API.
  config_ciphertext text NOT NULL,
  write_bookings  boolean NOT NULL DEFAULT false,
  write_mode      text NOT NULL DEFAULT 'eventual' CHECK (write_mode IN ('eventual', 'strict')),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('ok', 'error', 'pending')),
  error           text,
  last_synced_at  timestamptz,  -- the last successful sync
  last_attempt_at timestamptz,  -- the last try, successful or not: background syncs claim rows by it
  busy_digest     text,         -- SHA-256 of the stored busy set: an unchanged set is not rewritten
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calendar_connections_provider ON calendar_connections (provider_id, created_at);
CREATE INDEX calendar_connections_attempt ON calendar_connections (last_attempt_at);

-- The last good busy time of each connection, replaced whole (in one
-- transaction) by each successful sync. A failed sync leaves it as it was.
CREATE TABLE calendar_busy (
  connection_id text NOT NULL REFERENCES calendar_connections (id) ON DELETE CASCADE,
  provider_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  start_at      timestamptz NOT NULL,
  end_at        timestamptz NOT NULL,
  CHECK (end_at > start_at)
);
CREATE INDEX calendar_busy_provider_time ON calendar_busy (provider_id, start_at, end_at);
CREATE INDEX calendar_busy_connection ON calendar_busy (connection_id);
