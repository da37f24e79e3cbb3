-- Fewer round trips per hold, and fewer of them under the providers' locks
-- (issue 12). Before: BEGIN; hold_lock_client; hold_lock_providers; the insert
-- (with booking.held); one availability bump per host; COMMIT: the providers'
-- locks were held across the insert, the bump and the commit.
--
-- 1. The provider's availability bump moves into the insert's statement
--    (bookings-repo insertHold). That statement's AFTER triggers insert the
--    booking's blocks, and their exclusion check runs, only at its end: after
--    the users row is locked. The check waits for any transaction that is
--    changing an overlapping live block (a cancel or a confirm, which take no
--    provider lock) and that transaction then bumps the same provider: a
--    deadlock where the old order (insert, then bump) only waited. So
--    hold_lock_providers_settled (which holds now use) also waits, under the
--    providers' locks and before the users row is touched, for such changes to
--    settle, and share-locks the overlapping live blocks until commit: no one
--    can start changing them after, so the insert's check waits on nobody.
--    (test/concurrency/hold-lock-order.test.ts deadlocks without it.)
--
-- 2. hold_lock_client_and_providers: a client's hold whose hosts are known
--    before any lock (a v1 hold, a single or collective event type that is not
--    round robin) takes the client's lock, its counts, the client's lapsed time
--    and the providers' locks in one round trip instead of two or three. The
--    lock order stays client, then providers (sorted by the caller). The caps
--    are still decided in JS after it (booking-caps.ts, hold.ts); so that a
--    refused hold answers what it did before (429 too_many_holds and
--    too_many_bookings before a 409 slot_taken), the providers' part is
--    skipped when the counts already exceed a cap (p_caps) or the caller says
--    so (p_lock_providers false: beyond the horizon), and the caller then
--    throws, or takes the providers' locks itself.

-- The client's lapsed time in the way of `range` (client-blocks-repo releaseLapsedClientBlocks).
CREATE FUNCTION release_lapsed_client_blocks(p_client_key text, p_start timestamptz, p_end timestamptz)
RETURNS void
LANGUAGE sql AS $$
  UPDATE client_blocks c SET status = 'expired'
    FROM bookings b
   WHERE c.booking_id = b.id AND c.client_key = p_client_key AND c.status IN ('held', 'pending')
     AND tstzrange(c.start_at, c.end_at, '[)') && tstzrange(p_start, p_end, '[)')
     AND ((b.status = 'held' AND b.expires_at <= now()) OR (b.status = 'pending' AND b.start_at <= now()));
$$;

-- Point 1: hold_lock_providers of migration 016, then (a statement of its own,
-- after the locks, so that it reads what their previous holders committed) the
-- wait for, and share lock of, the live blocks overlapping the new one.
CREATE FUNCTION hold_lock_providers_settled(
  p_provider_ids text[], p_blocked_start timestamptz, p_blocked_end timestamptz, p_occurrence text
)
RETURNS SETOF bookings
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT * FROM hold_lock_providers(p_provider_ids, p_blocked_start, p_blocked_end, p_occurrence);
  PERFORM 1 FROM booking_blocks k
    WHERE k.provider_id = ANY (p_provider_ids) AND k.status IN ('held', 'pending', 'confirmed')
      AND k.blocked_end > p_blocked_start AND k.blocked_start < p_blocked_end
    FOR SHARE;
END $$;

-- Point 2. p_caps: the most live holds, upcoming bookings with p_provider_id,
-- and upcoming bookings in all (config MAX_HOLDS_PER_CLIENT,
-- MAX_BOOKINGS_PER_CLIENT_PER_PROVIDER, MAX_BOOKINGS_PER_CLIENT). p_client_key:
-- the client's time to clear (event types; NULL for v1 holds). Returns the
-- counts of hold_lock_client and the ids of the lapsed holds released, or
-- NULL for lapsed_ids when the providers were not locked.
CREATE FUNCTION hold_lock_client_and_providers(
  p_client_id text, p_caps int[], p_provider_id text, p_lock_providers boolean,
  p_client_key text, p_start timestamptz, p_end timestamptz,
  p_provider_ids text[], p_blocked_start timestamptz, p_blocked_end timestamptz, p_occurrence text
)
RETURNS TABLE (
  live_holds int, first_expiry_seconds int, upcoming int, upcoming_by_provider jsonb, db_now timestamptz, lapsed_ids text[]
)
LANGUAGE plpgsql AS $$
DECLARE
  c record;
  lapsed text[];
BEGIN
  SELECT * INTO c FROM hold_lock_client(p_client_id);
  IF p_client_key IS NOT NULL THEN
    PERFORM release_lapsed_client_blocks(p_client_key, p_start, p_end);
  END IF;
  IF p_lock_providers AND c.live_holds < p_caps[1]
     AND coalesce((c.upcoming_by_provider ->> p_provider_id)::int, 0) < p_caps[2] AND c.upcoming < p_caps[3] THEN
    SELECT coalesce(array_agg(l.id), '{}') INTO lapsed
      FROM hold_lock_providers_settled(p_provider_ids, p_blocked_start, p_blocked_end, p_occurrence) l;
  END IF;
  RETURN QUERY SELECT c.live_holds, c.first_expiry_seconds, c.upcoming, c.upcoming_by_provider, c.db_now, lapsed;
END $$;
