-- Event types (the services clients book), closures, and what a booking of a
-- type carries: answers, buffers, approval, reschedule history.

CREATE TABLE event_types (
  id          text PRIMARY KEY,
  slug        text NOT NULL,
  -- Every other field of the type as the API shows it (title, durations, buffers,
  -- limits, questions, ...): validated in the domain before it is written, read whole.
  spec        jsonb NOT NULL,
  public      boolean NOT NULL DEFAULT false,
  active      boolean NOT NULL DEFAULT true,
  deleted_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- A deleted type gives its slug back.
CREATE UNIQUE INDEX event_types_slug_unique ON event_types (slug) WHERE deleted_at IS NULL;

CREATE TABLE event_type_hosts (
  event_type_id text NOT NULL REFERENCES event_types (id) ON DELETE CASCADE,
  provider_id   text NOT NULL REFERENCES users (id),
  position      integer NOT NULL,
  priority      integer NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 4),
  weight        integer NOT NULL DEFAULT 100 CHECK (weight BETWEEN 1 AND 1000),
  PRIMARY KEY (event_type_id, provider_id)
);
CREATE INDEX event_type_hosts_provider ON event_type_hosts (provider_id);

CREATE TABLE closures (
  id           text PRIMARY KEY,
  name         text NOT NULL,
  local_date   date NOT NULL,
  recurrence   text NOT NULL DEFAULT 'none' CHECK (recurrence IN ('none', 'yearly')),
  -- null: every provider
  provider_ids text[],
  created_by   text NOT NULL REFERENCES users (id),
  created_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE bookings
  ADD COLUMN event_type_id  text REFERENCES event_types (id),
  ADD COLUMN answers        jsonb,
  -- The time the booking takes from its provider: [start - bufferBefore, end + bufferAfter),
  -- with the buffers in force when it was made. v1 bookings have no buffers.
  ADD COLUMN blocked_start  timestamptz,
  ADD COLUMN blocked_end    timestamptz,
  ADD COLUMN cancelled_by   text CHECK (cancelled_by IN ('client', 'host', 'admin')),
  ADD COLUMN decided_at     timestamptz,
  ADD COLUMN decline_reason text,
  ADD COLUMN rescheduled_at timestamptz,
  ADD COLUMN previous_start timestamptz,
  ADD COLUMN previous_end   timestamptz,
  ADD COLUMN reschedule_reason text,
  -- The type's rules in force when the booking was made (a later edit of the type
  -- applies to bookings made afterwards).
  ADD COLUMN requires_confirmation boolean NOT NULL DEFAULT false,
  ADD COLUMN cancellation_notice integer NOT NULL DEFAULT 0,
  -- iCalendar SEQUENCE: raised each time the booking moves.
  ADD COLUMN sequence       integer NOT NULL DEFAULT 0;

UPDATE bookings SET blocked_start = start_at, blocked_end = end_at;
ALTER TABLE bookings
  ALTER COLUMN blocked_start SET NOT NULL,
  ALTER COLUMN blocked_end SET NOT NULL,
  ADD CONSTRAINT bookings_blocked_covers CHECK (blocked_start <= start_at AND blocked_end >= end_at);

ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
  CHECK (status IN ('held', 'pending', 'confirmed', 'declined', 'cancelled', 'expired'));

-- The guarantee, now on blocked ranges (v1's constraint is the zero-buffer case):
-- no two live bookings of one provider have overlapping blocked ranges, whatever
-- the concurrency. A pending booking (awaiting approval) keeps its time.
ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap;
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
  provider_id WITH =,
  tstzrange(blocked_start, blocked_end, '[)') WITH &&
) WHERE (status IN ('held', 'pending', 'confirmed'));

CREATE INDEX bookings_event_type_start ON bookings (event_type_id, start_at) WHERE event_type_id IS NOT NULL;
CREATE INDEX bookings_pending_start ON bookings (start_at) WHERE status = 'pending';
