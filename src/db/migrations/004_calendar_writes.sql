-- Writing confirmed bookings out to the provider's calendar (writeBookings).

-- A provider writes its bookings into at most one calendar: two would show
-- every booking twice. The database keeps the rule under any concurrency.
CREATE UNIQUE INDEX calendar_connections_one_writer ON calendar_connections (provider_id) WHERE write_bookings;

-- The outbox of calendar writes. One row per (booking, write calendar) holding
-- the state the calendar should reach: 'put' (the event exists) or 'delete'
-- (it does not). A confirm writes 'put' and a cancel turns it into 'delete' in
-- the transaction that changes the booking, so a late retry of a put that has
-- been cancelled meanwhile sends a DELETE, never a PUT.
--
-- Workers claim due rows with FOR UPDATE SKIP LOCKED and lease them
-- (leased_until, and next_attempt_at pushed past the request's timeout). A new
-- action (version + 1) never becomes due before the lease ends, so a DELETE
-- can never overtake the PUT still in flight for the same booking; the
-- worker's result is only written for the version it sent.
CREATE TABLE calendar_writes (
  booking_id      text NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
  -- Disconnecting the calendar drops its pending writes.
  connection_id   text NOT NULL REFERENCES calendar_connections (id) ON DELETE CASCADE,
  action          text NOT NULL CHECK (action IN ('put', 'delete')),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  version         integer NOT NULL DEFAULT 1,
  -- A request for this row may have reached the calendar: a cancel before that needs no DELETE.
  sent            boolean NOT NULL DEFAULT false,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  leased_until    timestamptz,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (booking_id, connection_id)
);
CREATE INDEX calendar_writes_due ON calendar_writes (next_attempt_at) WHERE status = 'pending';
CREATE INDEX calendar_writes_connection ON calendar_writes (connection_id);
