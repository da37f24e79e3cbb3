-- Staff (a receptionist): a user who manages some providers and is no
-- provider itself. Which providers is this table; the access policy
-- (src/features/access/policy.ts) reads it through the caller's principal.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'provider', 'client', 'staff'));

CREATE TABLE staff_providers (
  staff_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (staff_id, provider_id)
);
CREATE INDEX staff_providers_provider ON staff_providers (provider_id);

-- One client cannot hold two live bookings that overlap in time (the client's
-- side of booking_blocks in 010_teams.sql), unless the booking's event type
-- says clientMayOverlap. One row per booking that takes its client's time:
--   * a booking of an event type whose clientMayOverlap was false when the
--     booking was made (read once, at insert: a later change of the type
--     applies to bookings made afterwards, as the contract says of every field);
--   * not a v1 booking (no event type): v1 stays valid unchanged (contract v2),
--     so v1 bookings neither take nor are refused client time;
--   * a seat is the client's time like any booking.
-- client_key: 'client:<user id>' or 'guest:<lower(email)>' (emails compare
-- case-insensitively). The range is the booking itself, not its buffers
-- (buffers are the host's time). Status follows the booking through the
-- trigger below, so a cancelled, declined or expired booking frees it, and a
-- reschedule moves the row in the same statement (its own old time never
-- conflicts with it). The constraint is what makes the rule true under any
-- concurrency, across server processes; the app only explains a violation.
CREATE TABLE client_blocks (
  booking_id text PRIMARY KEY REFERENCES bookings (id) ON DELETE CASCADE,
  client_key text NOT NULL,
  start_at   timestamptz NOT NULL,
  end_at     timestamptz NOT NULL,
  status     text NOT NULL,
  CONSTRAINT client_blocks_no_overlap EXCLUDE USING gist (
    client_key WITH =,
    tstzrange(start_at, end_at, '[)') WITH &&
  ) WHERE (status IN ('held', 'pending', 'confirmed'))
);

CREATE FUNCTION client_blocks_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.event_type_id IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM event_types t
       WHERE t.id = NEW.event_type_id AND coalesce((t.spec->>'clientMayOverlap')::boolean, false)
    ) THEN
      INSERT INTO client_blocks (booking_id, client_key, start_at, end_at, status)
      VALUES (
        NEW.id,
        CASE WHEN NEW.client_id IS NOT NULL THEN 'client:' || NEW.client_id ELSE 'guest:' || lower(NEW.guest_email) END,
        NEW.start_at, NEW.end_at, NEW.status
      );
    END IF;
  ELSE
    UPDATE client_blocks SET start_at = NEW.start_at, end_at = NEW.end_at, status = NEW.status WHERE booking_id = NEW.id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER bookings_client_blocks_insert AFTER INSERT ON bookings
  FOR EACH ROW EXECUTE FUNCTION client_blocks_follow();
CREATE TRIGGER bookings_client_blocks_update AFTER UPDATE OF status, start_at, end_at ON bookings
  FOR EACH ROW EXECUTE FUNCTION client_blocks_follow();

-- Existing live bookings of event types take their clients' time too; where
-- they already overlap, the later-made one is left out (it stays valid, as
-- every booking made before a rule does) rather than the migration failing.
INSERT INTO client_blocks (booking_id, client_key, start_at, end_at, status)
SELECT b.id,
       CASE WHEN b.client_id IS NOT NULL THEN 'client:' || b.client_id ELSE 'guest:' || lower(b.guest_email) END,
       b.start_at, b.end_at, b.status
  FROM bookings b
 WHERE b.event_type_id IS NOT NULL AND b.status IN ('held', 'pending', 'confirmed')
   AND NOT EXISTS (
     SELECT 1 FROM bookings o
      WHERE o.event_type_id IS NOT NULL AND o.status IN ('held', 'pending', 'confirmed') AND o.id <> b.id
        AND coalesce(o.client_id, 'guest:' || lower(o.guest_email)) = coalesce(b.client_id, 'guest:' || lower(b.guest_email))
        AND tstzrange(o.start_at, o.end_at, '[)') && tstzrange(b.start_at, b.end_at, '[)')
        AND (o.created_at, o.id) < (b.created_at, b.id)
   );
