-- Notifications: the mail outbox. Change mails are written in the transaction
-- that changed the booking (beside its row in `events`), so a mail exists
-- exactly when its change committed; reminders are armed when a booking
-- becomes confirmed and moved, re-armed or dropped by later changes.
--
-- dedupe_key is the "at most once" as a constraint: `<event id>/<recipient>`
-- for a change mail, `reminder/<booking id>/<minutes>/<recipient>` for a
-- reminder. Workers claim due rows with FOR UPDATE SKIP LOCKED and lease them
-- (next_attempt_at pushed past the send timeout); a result is written only for
-- the version and attempt count it claimed, so a late worker never overwrites
-- a newer state. Times are the app's clock (passed in), so tests can pin it.
CREATE TABLE mail_outbox (
  id               text PRIMARY KEY,
  dedupe_key       text NOT NULL UNIQUE,
  kind             text NOT NULL CHECK (kind IN ('confirmed', 'accepted', 'pending', 'declined', 'rescheduled', 'cancelled', 'reminder')),
  booking_id       text NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
  -- The change (events.id); null for reminders. Not a foreign key: events are pruned after a week.
  event_id         text,
  recipient_role   text NOT NULL CHECK (recipient_role IN ('client', 'host', 'guest')),
  -- The user mailed (their address and zone are read when the mail is sent); null for a guest.
  recipient_id     text REFERENCES users (id) ON DELETE CASCADE,
  -- A guest's address (guests have no user row).
  recipient_email  text,
  reminder_minutes integer CHECK (reminder_minutes > 0),
  -- The booking as the change left it; null for reminders, which read the booking when they go out.
  booking          jsonb,
  -- The booking's SEQUENCE this mail is about (a reminder is re-armed when the booking moves).
  booking_sequence integer NOT NULL DEFAULT 0,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
  version          integer NOT NULL DEFAULT 1,
  attempts         integer NOT NULL DEFAULT 0,
  due_at           timestamptz NOT NULL,
  next_attempt_at  timestamptz NOT NULL,
  last_attempt_at  timestamptz,
  last_error       text,
  sent_at          timestamptz,
  created_at       timestamptz NOT NULL,
  CHECK ((kind = 'reminder') = (reminder_minutes IS NOT NULL)),
  CHECK (recipient_id IS NOT NULL OR recipient_email IS NOT NULL)
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX mail_outbox_booking ON mail_outbox (booking_id);
CREATE INDEX mail_outbox_listing ON mail_outbox (created_at, id);
