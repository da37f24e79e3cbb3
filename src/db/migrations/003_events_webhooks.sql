-- The outbox: one row per change, written in the transaction that made the
-- change, so an event exists exactly when its change committed. Webhooks (and
-- later the live stream and calendar write-back) read from here.
CREATE TABLE events (
  id          text PRIMARY KEY,
  type        text NOT NULL,
  provider_id text NOT NULL,
  client_id   text,                 -- the booking's client; null for availability.changed
  data        jsonb NOT NULL,
  -- The writing transaction: availability.changed is recorded once per transaction and provider.
  tx_id       bigint NOT NULL DEFAULT txid_current(),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_created ON events (created_at, id);
CREATE UNIQUE INDEX events_one_availability_per_tx ON events (tx_id, provider_id) WHERE type = 'availability.changed';

CREATE TABLE webhooks (
  id          text PRIMARY KEY,
  owner_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  url         text NOT NULL,
  events      text[] NOT NULL,
  description text,
  -- "v1.…": the signing secret sealed with ENCRYPTION_KEY (src/platform/crypto/encryption.ts);
  -- "plain.whsec_…" when the server has no ENCRYPTION_KEY (see README, Webhooks).
  secret_stored text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_owner ON webhooks (owner_id, created_at, id);

-- One delivery per (event, webhook), fanned out in the event's transaction.
-- Workers claim due rows with FOR UPDATE SKIP LOCKED and push next_attempt_at
-- past the request's timeout (a lease): a crashed worker's row comes back.
CREATE TABLE webhook_deliveries (
  id              text PRIMARY KEY,
  webhook_id      text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id        text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_attempt_at timestamptz,
  response_status integer,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at, id);
