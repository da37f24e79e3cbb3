-- Fewer round trips per hold, and fewer of them under the providers' locks
-- (issue 12). Before: BEGIN; hold_lock_client; hold_lock_providers; the insert
-- (with booking.held); one availability bump per host; COMMIT: the providers'
-- locks were held across three round trips after the one that took them (the
-- insert, the bump, the commit), and each waits on a busy server's event loop.
-- Now a hold with no rule to count under the locks (v1; event types without
-- limits or seats) takes the providers' locks in the insert's own statement,
-- which also raises the provider's availability version (bookings-repo
-- insertHold): the locks span the rest of that statement and the commit.
--
-- That statement runs hold_lock_providers_settled first (its CTE feeds the
-- insert), and its other parts only read what the locks do not protect or
-- check with the constraints' own rules, so the READ COMMITTED rule of
-- migration 016 still holds. The statement locks the users row before its AFTER
-- triggers insert the blocks, and their exclusion check would wait for any
-- transaction that is changing an overlapping live block (a cancel or a
-- confirm, which take no provider lock) and then bumps the same provider: a
-- deadlock where the old order (insert, then bump) only waited. So
-- hold_lock_providers_settled, which holds now use, also waits, under the
-- providers' locks and before the users row is touched, for such changes to
-- settle, and share-locks the overlapping live blocks until commit: no one can
-- start changing them after, so the insert's check waits on nobody.
-- (test/concurrency/hold-lock-order.test.ts deadlocks without it.)

-- The client's lapsed time in the way of `range` (client-blocks-repo releaseLapsedClientBlocks), callable
-- in the insert's statement too.
CREATE FUNCTION release_lapsed_client_blocks(p_client_key text, p_start timestamptz, p_end timestamptz)
RETURNS void
LANGUAGE sql AS $$
  UPDATE client_blocks c SET status = 'expired'
    FROM bookings b
   WHERE c.booking_id = b.id AND c.client_key = p_client_key AND c.status IN ('held', 'pending')
     AND tstzrange(c.start_at, c.end_at, '[)') && tstzrange(p_start, p_end, '[)')
     AND ((b.status = 'held' AND b.expires_at <= now()) OR (b.status = 'pending' AND b.start_at <= now()));
$$;

-- hold_lock_providers of migration 016, then (a statement of its own,
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
