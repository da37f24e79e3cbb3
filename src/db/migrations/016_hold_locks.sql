-- A hold takes advisory locks and then reads what they protect. Until now each
-- lock was a statement of its own followed by its reads (bench table 3/4: 11
-- statements per hold inside the transaction, the provider's lock held across
-- most of them). They cannot simply share one statement: in READ COMMITTED a
-- statement reads the snapshot taken when it starts, so a read in the same
-- statement as the lock would miss what the lock's previous holder committed
-- while we waited. A plpgsql function takes a fresh snapshot for each statement
-- in it, so "lock, then read" stays exact and costs one round trip.
--
-- The lock numbers are those of src/features/bookings/hold.ts (CLIENT_LOCK,
-- PROVIDER_LOCK); the order of locks stays the caller's: client, (event type),
-- providers in the order given (sorted by the caller).

-- The client's lock, then what its caps count (src/features/bookings/booking-caps.ts,
-- hold.ts): live holds and the seconds until the first lapses; upcoming live
-- bookings (held and unexpired, pending, or confirmed; starting after now) in
-- all and per provider; and now(), the transaction's clock.
CREATE FUNCTION hold_lock_client(p_client_id text)
RETURNS TABLE (live_holds int, first_expiry_seconds int, upcoming int, upcoming_by_provider jsonb, db_now timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(724102, hashtext(p_client_id));
  RETURN QUERY
    WITH mine AS (
      SELECT b.provider_id, b.status, b.expires_at, b.start_at FROM bookings b
       WHERE b.client_id = p_client_id
         AND ((b.status = 'held' AND b.expires_at > now()) OR (b.status IN ('confirmed', 'pending') AND b.start_at > now()))
    ), upcoming AS (
      SELECT m.provider_id, count(*)::int AS n FROM mine m WHERE m.start_at > now() GROUP BY m.provider_id
    )
    SELECT (SELECT count(*)::int FROM mine m WHERE m.status = 'held'),
           (SELECT ceil(extract(epoch FROM min(m.expires_at) - now()))::int FROM mine m WHERE m.status = 'held'),
           (SELECT coalesce(sum(u.n), 0)::int FROM upcoming u),
           (SELECT coalesce(jsonb_object_agg(u.provider_id, u.n), '{}'::jsonb) FROM upcoming u),
           now();
END $$;

-- Each provider's lock in the order given, then their lapsed holds (and requests
-- for approval whose start has passed) whose blocked ranges overlap the new
-- one are marked expired, so the exclusion constraint, which sees stored
-- statuses only, lets the new booking take their place. Returns those rows.
--
-- With p_occurrence (the new booking's: its id, or a seat's occurrence), a time
-- that a live booking of another occurrence already takes is refused before
-- any lock, with the error the exclusion constraint would raise at the insert:
-- the losers of a race for one slot then stop here instead of queueing on the
-- provider's lock behind the winner (bench table 4: 3 of 4 requests lose). This
-- only answers earlier what the insert would answer: a time free here is
-- still decided by the constraint under the lock. NULL skips it (a reschedule's
-- own blocks overlap its new time).
CREATE FUNCTION hold_lock_providers(
  p_provider_ids text[], p_blocked_start timestamptz, p_blocked_end timestamptz, p_occurrence text
)
RETURNS SETOF bookings
LANGUAGE plpgsql AS $$
DECLARE
  p text;
BEGIN
  IF p_occurrence IS NOT NULL AND EXISTS (
    SELECT 1 FROM booking_blocks k JOIN bookings b ON b.id = k.booking_id
     WHERE k.provider_id = ANY (p_provider_ids) AND k.status IN ('held', 'pending', 'confirmed')
       AND k.blocked_end > p_blocked_start AND k.blocked_start < p_blocked_end AND k.occurrence <> p_occurrence
       AND (b.status = 'confirmed' OR (b.status = 'held' AND b.expires_at > now()) OR (b.status = 'pending' AND b.start_at > now()))
  ) THEN
    RAISE EXCEPTION 'the time is taken by a live booking'
      USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'booking_blocks_no_overlap';
  END IF;
  FOREACH p IN ARRAY p_provider_ids LOOP
    PERFORM pg_advisory_xact_lock(724101, hashtext(p));
  END LOOP;
  RETURN QUERY
    UPDATE bookings b SET status = 'expired'
     WHERE b.id IN (SELECT k.booking_id FROM booking_blocks k -- a block's status is its booking's: index of migration 015
                     WHERE k.provider_id = ANY (p_provider_ids) AND k.status IN ('held', 'pending')
                       AND k.blocked_end > p_blocked_start AND k.blocked_start < p_blocked_end)
       AND ((b.status = 'held' AND b.expires_at <= now()) OR (b.status = 'pending' AND b.start_at <= now()))
    RETURNING b.*;
END $$;
