import {
  deleteOverride,
  deleteProviderRow,
  findSchedule,
  insertOneOffWindow,
  type ScheduleRecord,
  insertTimeOff,
  upsertOverride,
  upsertSchedule,
} from '../../db/availability-repo.js';
import { bumpAvailabilityVersion } from '../../db/users-repo.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { effectiveAvailability, validateClockWindow, type ClockWindow, type WeeklyWindow } from '../../domain/schedule.js';
import { alignDownToLocalGrid, alignUpToLocalGrid } from '../../domain/slots.js';
import { formatInstant, isValidLocalDate, localToInstant, parseClockTime } from '../../domain/zoned-time.js';
import { loadForQueryRange } from './availability-rules.js';
import type { AppContext, Principal } from '../context.js';
import { assertProviderAccess, providerTimeZone, requireProviderAccess } from './providers.js';
import { newId } from '../../platform/crypto/secrets.js';
import { isSupportedLocalDate, requireTimeZone, SUPPORTED_RANGE_MESSAGE } from '../slots/time-range.js';
import type { OverrideBody, RangeQuery, ScheduleBody } from '../../http/schemas/availability.js';

function checkWindows(path: string, windows: readonly ClockWindow[]): void {
  windows.forEach((w, i) => {
    const problem = validateClockWindow(w);
    if (problem !== null) throw invalidField(`${path}/${i}`, problem);
  });
}

export interface ScheduleView {
  providerId: string;
  timeZone: string;
  weekly: WeeklyWindow[];
  updatedAt: string | null;
}

export async function putSchedule(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  input: ScheduleBody,
): Promise<ScheduleView> {
  const timeZone = requireTimeZone('timeZone', input.timeZone);
  checkWindows('weekly', input.weekly);
  await requireProviderAccess(ctx.db, caller, providerId);
  const saved = await ctx.db.transaction(async (tx) => {
    const s = await upsertSchedule(tx, { providerId, timeZone, weekly: input.weekly });
    await bumpAvailabilityVersion(tx, providerId);
    return s;
  });
  return scheduleView(saved);
}

export const scheduleView = (s: ScheduleRecord): ScheduleView =>
  ({ providerId: s.providerId, timeZone: s.timeZone, weekly: s.weekly, updatedAt: formatInstant(s.updatedAt.getTime()) });

/** A provider that never published hours has an empty schedule in its own zone. */
export async function getSchedule(ctx: AppContext, caller: Principal, providerId: string): Promise<ScheduleView> {
  const provider = await requireProviderAccess(ctx.db, caller, providerId);
  const s = await findSchedule(ctx.db, providerId);
  return s
    ? scheduleView(s)
    : { providerId, timeZone: provider.timeZone, weekly: [], updatedAt: null };
}

/**
 * A one-off working window. Local form: "on 2027-08-13 work 08:00-15:00"
 * (end before start runs past midnight). Either form is rounded inwards to the
 * 15-minute grid; a window with nothing left is a 422.
 */
export async function addOneOffWindow(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  input: { start: number; end: number } | { date: string; start: string; end: string; timeZone?: string },
): Promise<{ id: string; start: string; end: string }> {
  const provider = await requireProviderAccess(ctx.db, caller, providerId);
  const zone = 'date' in input ? requireTimeZone('timeZone', input.timeZone ?? (await providerTimeZone(ctx.db, provider))) : await providerTimeZone(ctx.db, provider);
  let start: number;
  let end: number;
  if ('date' in input) {
    if (!isValidLocalDate(input.date)) throw invalidField('date', `"${input.date}" is not a real date`);
    if (!isSupportedLocalDate(input.date)) throw invalidField('date', SUPPORTED_RANGE_MESSAGE);
    const startMin = parseClockTime(input.start, false);
    const endMin = parseClockTime(input.end, true);
    if (startMin === null) throw invalidField('start', 'must be a time HH:MM between 00:00 and 23:59');
    if (endMin === null) throw invalidField('end', 'must be a time HH:MM between 00:00 and 24:00');
    if (endMin === startMin) throw invalidField('end', 'must differ from start');
    start = localToInstant(zone, input.date, startMin);
    end = endMin > startMin ? localToInstant(zone, input.date, endMin) : localToInstant(zone, input.date, endMin + 1440);
  } else {
    ({ start, end } = input);
    if (end <= start) throw invalidField('end', 'must be after start');
  }
  const rounded = { start: alignUpToLocalGrid(zone, start), end: alignDownToLocalGrid(zone, end) };
  if (rounded.end <= rounded.start) {
    throw new AppError('not_bookable', 'Rounded to the 15-minute grid, the window is empty.');
  }
  const id = newId('win');
  await ctx.db.transaction(async (tx) => {
    await insertOneOffWindow(tx, { id, providerId, ...rounded });
    await bumpAvailabilityVersion(tx, providerId);
  });
  return { id, start: formatInstant(rounded.start), end: formatInstant(rounded.end) };
}

export async function removeProviderItem(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  table: 'availability_windows' | 'time_off',
  id: string,
): Promise<void> {
  await requireProviderAccess(ctx.db, caller, providerId);
  const deleted = await ctx.db.transaction(async (tx) => {
    const done = await deleteProviderRow(tx, table, providerId, id);
    if (done) await bumpAvailabilityVersion(tx, providerId);
    return done;
  });
  if (!deleted) throw new AppError('not_found', `No ${table === 'time_off' ? 'time off' : 'availability window'} with id "${id}".`);
}

export interface OverrideView {
  date: string;
  timeZone: string;
  windows: ClockWindow[];
}

export async function putOverride(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  date: string,
  input: OverrideBody,
): Promise<OverrideView> {
  if (!isValidLocalDate(date)) throw invalidField('date', `"${date}" is not a real date (YYYY-MM-DD)`);
  if (!isSupportedLocalDate(date)) throw invalidField('date', SUPPORTED_RANGE_MESSAGE);
  checkWindows('windows', input.windows);
  const provider = await requireProviderAccess(ctx.db, caller, providerId);
  const timeZone = requireTimeZone('timeZone', input.timeZone ?? (await providerTimeZone(ctx.db, provider)));
  const override = { date, timeZone, windows: input.windows.map((w) => ({ start: w.start, end: w.end })) };
  await ctx.db.transaction(async (tx) => {
    await upsertOverride(tx, providerId, override);
    await bumpAvailabilityVersion(tx, providerId);
  });
  return override;
}

export async function removeOverride(ctx: AppContext, caller: Principal, providerId: string, date: string): Promise<void> {
  if (!isValidLocalDate(date)) throw invalidField('date', `"${date}" is not a real date (YYYY-MM-DD)`);
  if (!isSupportedLocalDate(date)) throw invalidField('date', SUPPORTED_RANGE_MESSAGE);
  await requireProviderAccess(ctx.db, caller, providerId);
  const deleted = await ctx.db.transaction(async (tx) => {
    const done = await deleteOverride(tx, providerId, date);
    if (done) await bumpAvailabilityVersion(tx, providerId);
    return done;
  });
  if (!deleted) throw new AppError('not_found', `No override on ${date}.`);
}

export async function addTimeOff(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  input: { start: number; end: number; reason: string | null },
): Promise<{ id: string; start: string; end: string; reason: string | null }> {
  if (input.end <= input.start) throw invalidField('end', 'must be after start');
  await requireProviderAccess(ctx.db, caller, providerId);
  const id = newId('off');
  await ctx.db.transaction(async (tx) => {
    await insertTimeOff(tx, { id, providerId, start: input.start, end: input.end, reason: input.reason });
    await bumpAvailabilityVersion(tx, providerId);
  });
  return { id, start: formatInstant(input.start), end: formatInstant(input.end), reason: input.reason };
}

export async function getEffectiveAvailability(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  query: RangeQuery,
): Promise<{ providerId: string; timeZone: string; windows: { start: string; end: string }[] }> {
  const outZone = query.timeZone === undefined ? undefined : requireTimeZone('timeZone', query.timeZone);
  const { rules, range } = await loadForQueryRange(ctx.db, providerId, query, outZone, { busy: false });
  assertProviderAccess(caller, providerId);
  const windows = effectiveAvailability(rules, range);
  return {
    providerId,
    timeZone: rules.timeZone,
    windows: windows.map((w) => ({ start: formatInstant(w.start, outZone), end: formatInstant(w.end, outZone) })),
  };
}
