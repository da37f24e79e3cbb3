-- A hold for a time that a live booking already takes is refused before its
-- transaction (issue 12: in bench table 4, 3 of 4 requests lose a race for a
-- slot, and each opened a transaction, took the client's lock and sent the
-- insert only to be refused). The route's one read of the provider's data now
-- includes the live blocked ranges over the slot; when one overlaps, the
-- client's counts are read without the lock, so a client at a cap still gets
-- that answer first, as it would under the lock. Nothing here decides that a
-- time is free: that is still the exclusion constraint's, under the locks.

-- What hold_lock_client counts, without the lock (a read that may be stale by
-- the time it is used: only to choose which refusal to give).
CREATE FUNCTION client_hold_counts(p_client_id text)
RETURNS TABLE (live_holds int, first_expiry_seconds int, upcoming int, upcoming_by_provider jsonb, db_now timestamptz)
LANGUAGE sql STABLE AS $$
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
         now()
$$;

-- The same counts, now read by one query in both places.
CREATE OR REPLACE FUNCTION hold_lock_client(p_client_id text)
RETURNS TABLE (live_holds int, first_expiry_seconds int, upcoming int, upcoming_by_provider jsonb, db_now timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(724102, hashtext(p_client_id));
  RETURN QUERY SELECT * FROM client_hold_counts(p_client_id);
END $$;
