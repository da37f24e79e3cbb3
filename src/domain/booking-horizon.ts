const DAY_MS = 24 * 3600 * 1000;

/**
 * Whether a booking starting at `start` lies beyond the booking horizon: more
 * than `horizonDays` days after `now` (epoch milliseconds). The horizon is
 * BOOKING_HORIZON_DAYS by default; an event type's booking window may pass
 * its own number of days.
 *
 *   beyondHorizon(Date.parse('2028-03-02T00:00Z'), Date.parse('2027-03-01T00:00Z'), 365) -> true  (366 days)
 *   beyondHorizon(Date.parse('2028-02-29T00:00Z'), Date.parse('2027-03-01T00:00Z'), 365) -> false (exactly 365)
 */
export function beyondHorizon(start: number, now: number, horizonDays: number): boolean {
  return start > now + horizonDays * DAY_MS;
}
