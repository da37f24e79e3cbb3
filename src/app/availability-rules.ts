import {
  findSchedule,
  oneOffWindowsOverlapping,
  overridesBetween,
  timeOffOverlapping,
} from '../db/availability-repo.js';
import type { Queryable } from '../db/database.js';
import type { UserRecord } from '../db/users-repo.js';
import type { Interval } from '../domain/intervals.js';
import { effectiveAvailability, type AvailabilityRules } from '../domain/schedule.js';
import { addDays, instantToLocalDate } from '../domain/zoned-time.js';

// Overrides in other zones can reach a range from a few local dates away (see effectiveAvailability).
const OVERRIDE_MARGIN_DAYS = 3;

/** Everything the rule expansion needs for one provider and range, read in one go. */
export async function loadAvailabilityRules(q: Queryable, provider: UserRecord, range: Interval): Promise<AvailabilityRules> {
  const schedule = await findSchedule(q, provider.id);
  const timeZone = schedule?.timeZone ?? provider.timeZone;
  const firstDate = addDays(instantToLocalDate(timeZone, range.start), -OVERRIDE_MARGIN_DAYS);
  const lastDate = addDays(instantToLocalDate(timeZone, range.end), OVERRIDE_MARGIN_DAYS);
  const [overrides, oneOff, timeOff] = await Promise.all([
    overridesBetween(q, provider.id, firstDate, lastDate),
    oneOffWindowsOverlapping(q, provider.id, range),
    timeOffOverlapping(q, provider.id, range),
  ]);
  return { timeZone, weekly: schedule?.weekly ?? [], overrides, oneOff, timeOff };
}

export async function effectiveWindows(q: Queryable, provider: UserRecord, range: Interval): Promise<{
  timeZone: string;
  windows: Interval[];
}> {
  const rules = await loadAvailabilityRules(q, provider, range);
  return { timeZone: rules.timeZone, windows: effectiveAvailability(rules, range) };
}
