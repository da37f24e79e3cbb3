-- Public booking without an account: a booking has either a client (a user)
-- or a guest (a name and an email typed into the booking page), never both.
ALTER TABLE bookings ALTER COLUMN client_id DROP NOT NULL;
ALTER TABLE bookings ADD COLUMN guest_name text;
ALTER TABLE bookings ADD COLUMN guest_email text;
ALTER TABLE bookings ADD COLUMN guest_time_zone text;
-- SHA-256 of the address the guest booked from: the hold cap per address counts these.
ALTER TABLE bookings ADD COLUMN guest_address text;
ALTER TABLE bookings ADD CONSTRAINT bookings_client_or_guest CHECK (
  (client_id IS NOT NULL AND guest_email IS NULL AND guest_name IS NULL AND guest_address IS NULL)
  OR (client_id IS NULL AND guest_email IS NOT NULL AND guest_name IS NOT NULL AND guest_address IS NOT NULL)
);
-- The guest hold caps (per address, per email) count live holds under their own advisory locks.
CREATE INDEX bookings_guest_email_held ON bookings (lower(guest_email)) WHERE status = 'held' AND guest_email IS NOT NULL;
CREATE INDEX bookings_guest_address_held ON bookings (guest_address) WHERE status = 'held' AND guest_address IS NOT NULL;

-- The secrets that open one guest booking, stored as SHA-256 only:
--   manage: the token answered once by POST /v1/bookings (the booking page keeps it);
--   mail:   minted when a mail to the guest is composed, so its manage link works
--           without the plaintext of the first token ever being stored.
-- Each opens exactly its booking for read, confirm, cancel and reschedule.
CREATE TABLE booking_tokens (
  token_hash text PRIMARY KEY,
  -- Deferred: the hold's transaction stores the token before the booking row it names.
  booking_id text NOT NULL REFERENCES bookings (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  kind       text NOT NULL CHECK (kind IN ('manage', 'mail')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX booking_tokens_booking ON booking_tokens (booking_id, created_at);
