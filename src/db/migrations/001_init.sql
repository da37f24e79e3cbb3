-- The v1 schema. Instants are timestamptz; schedule rules stay local times plus
-- their zone and become instants only in the domain's rule expansion.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE users (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  email         text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'provider', 'client')),
  time_zone     text NOT NULL,
  password_hash text,
  -- Bumped in the same transaction as every change to what this provider's
  -- slots depend on (schedule, windows, overrides, time off, bookings).
  availability_version integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_unique ON users (lower(email));

CREATE TABLE api_keys (
  id          text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name        text,
  key_hash    text NOT NULL UNIQUE, -- SHA-256 of the secret: keys are random, so a fast hash is enough
  prefix      text NOT NULL,        -- the first characters, to tell keys apart in a list
  expires_at  timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at);

CREATE TABLE schedules (
  provider_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  time_zone   text NOT NULL,
  weekly      jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE availability_windows (
  id          text PRIMARY KEY,
  provider_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  start_at    timestamptz NOT NULL,
  end_at      timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (end_at > start_at)
);
CREATE INDEX availability_windows_provider ON availability_windows (provider_id, start_at);

CREATE TABLE schedule_overrides (
  provider_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  local_date  date NOT NULL,
  time_zone   text NOT NULL,
  windows     jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider_id, local_date)
);

CREATE TABLE time_off (
  id          text PRIMARY KEY,
  provider_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  start_at    timestamptz NOT NULL,
  end_at      timestamptz NOT NULL,
  reason      text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (end_at > start_at)
);
CREATE INDEX time_off_provider ON time_off (provider_id, start_at);

CREATE TABLE bookings (
  id            text PRIMARY KEY,
  provider_id   text NOT NULL REFERENCES users (id),
  client_id     text NOT NULL REFERENCES users (id),
  start_at      timestamptz NOT NULL,
  end_at        timestamptz NOT NULL,
  -- 'held' rows past expires_at read as expired everywhere (see bookings-repo);
  -- the sweeper and the insert path write 'expired' to release them.
  status        text NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired')),
  expires_at    timestamptz NOT NULL,
  notes         text,
  cancel_reason text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  confirmed_at  timestamptz,
  cancelled_at  timestamptz,
  CHECK (end_at > start_at),
  -- The guarantee: no two live bookings of one provider overlap, whatever the
  -- concurrency or the number of server processes. Half-open ranges, so
  -- back-to-back bookings (10:00-11:00, 11:00-12:00) are allowed.
  CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
    provider_id WITH =,
    tstzrange(start_at, end_at, '[)') WITH &&
  ) WHERE (status IN ('held', 'confirmed'))
);
CREATE INDEX bookings_provider_start ON bookings (provider_id, start_at);
CREATE INDEX bookings_client_start ON bookings (client_id, start_at);
CREATE INDEX bookings_held_expiry ON bookings (expires_at) WHERE status = 'held';

CREATE TABLE idempotency_keys (
  caller_id        text NOT NULL,
  key              text NOT NULL,
  request_hash     text NOT NULL,    -- method, path and body: a reuse with another body is a 422
  status_code      integer,          -- null while the first request is in flight
  response_body    text,
  response_headers jsonb,           -- the headers a replay must repeat (content-type, location)
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (caller_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE calendar_feeds (
  provider_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  token       text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);
