-- Teams, capacity and resources: a booking may block the time of several
-- hosts (collective), several seat bookings may share one occurrence, and a
-- provider may be a resource (a room, a machine) with no login.

-- One row per (booking, host whose time it takes). The exclusion constraint
-- moves here from bookings, so a collective booking blocks every host in one
-- insert, all or none. Its range and liveness follow the booking through the
-- trigger below: the booking row stays the one truth.
CREATE TABLE booking_blocks (
  booking_id    text NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
  provider_id   text NOT NULL REFERENCES users (id),
  blocked_start timestamptz NOT NULL,
  blocked_end   timestamptz NOT NULL,
  status        text NOT NULL,
  -- Seat bookings of one occurrence share it (the event type and start), so they
  -- may overlap each other and nothing else; any other booking uses its own id.
  occurrence    text NOT NULL,
  PRIMARY KEY (booking_id, provider_id),
  CONSTRAINT booking_blocks_no_overlap EXCLUDE USING gist (
    provider_id WITH =,
    tstzrange(blocked_start, blocked_end, '[)') WITH &&,
    occurrence WITH <>
  ) WHERE (status IN ('held', 'pending', 'confirmed'))
);
CREATE INDEX booking_blocks_provider ON booking_blocks (provider_id, blocked_start);

-- Every host whose time the booking takes (provider_id is the first).
ALTER TABLE bookings ADD COLUMN host_ids text[];
ALTER TABLE bookings ADD COLUMN occurrence text;
UPDATE bookings SET host_ids = ARRAY[provider_id], occurrence = id;
ALTER TABLE bookings ALTER COLUMN host_ids SET NOT NULL, ALTER COLUMN occurrence SET NOT NULL,
  ADD CONSTRAINT bookings_provider_is_first_host CHECK (host_ids[1] = provider_id);

CREATE INDEX bookings_hosts ON bookings USING gin (host_ids);
CREATE INDEX bookings_occurrence ON bookings (occurrence);

INSERT INTO booking_blocks (booking_id, provider_id, blocked_start, blocked_end, status, occurrence)
SELECT id, provider_id, blocked_start, blocked_end, status, occurrence FROM bookings;

ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap;

-- A booking blocks each of its hosts; a change of hosts (a round-robin reschedule) replaces the blocks.
CREATE FUNCTION booking_blocks_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.host_ids IS DISTINCT FROM OLD.host_ids THEN
    DELETE FROM booking_blocks WHERE booking_id = NEW.id;
  END IF;
  IF TG_OP = 'INSERT' OR NEW.host_ids IS DISTINCT FROM OLD.host_ids THEN
    INSERT INTO booking_blocks (booking_id, provider_id, blocked_start, blocked_end, status, occurrence)
    SELECT NEW.id, h, NEW.blocked_start, NEW.blocked_end, NEW.status, NEW.occurrence FROM unnest(NEW.host_ids) AS h;
  ELSE
    UPDATE booking_blocks
       SET blocked_start = NEW.blocked_start, blocked_end = NEW.blocked_end, status = NEW.status, occurrence = NEW.occurrence
     WHERE booking_id = NEW.id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER bookings_blocks_insert AFTER INSERT ON bookings
  FOR EACH ROW EXECUTE FUNCTION booking_blocks_follow();
CREATE TRIGGER bookings_blocks_update AFTER UPDATE OF status, blocked_start, blocked_end, occurrence, host_ids ON bookings
  FOR EACH ROW EXECUTE FUNCTION booking_blocks_follow();

-- Resources have no email or password.
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
ALTER TABLE users ADD COLUMN kind text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'resource'));
