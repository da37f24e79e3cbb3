-- Users can be deleted (DELETE /v1/users/{id}) without losing the booking rows
-- others keep: a provider is deactivated, a client's personal data erased; both
-- keep their row, marked here. A deactivated user has no working key and is
-- 404 wherever it is looked up as a provider.
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;

-- No booking of a deactivated provider, whatever the timing. Deactivation locks
-- the provider's row FOR UPDATE before it looks for live bookings; FOR KEY
-- SHARE here waits for such a lock and then reads the committed row, so a hold
-- racing a deactivation either is seen by it (409) or sees it (refused here).
CREATE FUNCTION bookings_refuse_deactivated_provider() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM users WHERE id = NEW.provider_id AND deactivated_at IS NULL FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'provider % is deactivated', NEW.provider_id USING ERRCODE = 'BK404';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER bookings_active_provider BEFORE INSERT ON bookings
  FOR EACH ROW EXECUTE FUNCTION bookings_refuse_deactivated_provider();
